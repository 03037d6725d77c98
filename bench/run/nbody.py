# N-body simulation (the Computer Language Benchmarks Game's nbody, five
# Jovian planets): float arithmetic, objects with float fields in a list,
# methods, math.sqrt. Energies are printed as integers (x 1e9, truncated)
# so the output does not depend on float formatting.
import math


class Body:
    __slots__ = ("x", "y", "z", "vx", "vy", "vz", "mass")

    def __init__(self, x, y, z, vx, vy, vz, mass):
        days_per_year = 365.24
        solar_mass = 4.0 * 3.141592653589793 * 3.141592653589793
        self.x = x
        self.y = y
        self.z = z
        self.vx = vx * days_per_year
        self.vy = vy * days_per_year
        self.vz = vz * days_per_year
        self.mass = mass * solar_mass

    def kinetic_energy(self):
        return 0.5 * self.mass * (self.vx * self.vx + self.vy * self.vy + self.vz * self.vz)

    def move_by(self, dt):
        self.x += dt * self.vx
        self.y += dt * self.vy
        self.z += dt * self.vz


def make_bodies():
    bodies = []
    # sun
    bodies.append(Body(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0))
    # jupiter
    bodies.append(Body(
        4.84143144246472090e+00,
        -1.16032004402742839e+00,
        -1.03622044471123109e-01,
        1.66007664274403694e-03,
        7.69901118419740425e-03,
        -6.90460016972063023e-05,
        9.54791938424326609e-04,
    ))
    # saturn
    bodies.append(Body(
        8.34336671824457987e+00,
        4.12479856412430479e+00,
        -4.03523417114321381e-01,
        -2.76742510726862411e-03,
        4.99852801234917238e-03,
        2.30417297573763929e-05,
        2.85885980666130812e-04,
    ))
    # uranus
    bodies.append(Body(
        1.28943695621391310e+01,
        -1.51111514016986312e+01,
        -2.23307578892655734e-01,
        2.96460137564761618e-03,
        2.37847173959480950e-03,
        -2.96589568540237556e-05,
        4.36624404335156298e-05,
    ))
    # neptune
    bodies.append(Body(
        1.53796971148509165e+01,
        -2.59193146099879641e+01,
        1.79258772950371181e-01,
        2.68067772490389322e-03,
        1.62824170038242295e-03,
        -9.51592254519715870e-05,
        5.15138902046611451e-05,
    ))
    return bodies


def offset_momentum(bodies):
    solar_mass = 4.0 * 3.141592653589793 * 3.141592653589793
    px = 0.0
    py = 0.0
    pz = 0.0
    n = len(bodies)
    i = 0
    while i < n:
        px += bodies[i].vx * bodies[i].mass
        py += bodies[i].vy * bodies[i].mass
        pz += bodies[i].vz * bodies[i].mass
        i += 1
    bodies[0].vx = -px / solar_mass
    bodies[0].vy = -py / solar_mass
    bodies[0].vz = -pz / solar_mass


def energy(bodies):
    e = 0.0
    n = len(bodies)
    i = 0
    while i < n:
        e += bodies[i].kinetic_energy()
        j = i + 1
        while j < n:
            dx = bodies[i].x - bodies[j].x
            dy = bodies[i].y - bodies[j].y
            dz = bodies[i].z - bodies[j].z
            e -= bodies[i].mass * bodies[j].mass / math.sqrt(dx * dx + dy * dy + dz * dz)
            j += 1
        i += 1
    return e


def advance(bodies, dt):
    n = len(bodies)
    i = 0
    while i < n:
        j = i + 1
        while j < n:
            dx = bodies[i].x - bodies[j].x
            dy = bodies[i].y - bodies[j].y
            dz = bodies[i].z - bodies[j].z
            d2 = dx * dx + dy * dy + dz * dz
            mag = dt / (d2 * math.sqrt(d2))
            mi = bodies[i].mass * mag
            mj = bodies[j].mass * mag
            bodies[i].vx -= dx * mj
            bodies[i].vy -= dy * mj
            bodies[i].vz -= dz * mj
            bodies[j].vx += dx * mi
            bodies[j].vy += dy * mi
            bodies[j].vz += dz * mi
            j += 1
        i += 1
    for k in range(n):
        bodies[k].move_by(dt)


def main():
    steps = 250_000
    bodies = make_bodies()
    offset_momentum(bodies)
    print(int(energy(bodies) * 1.0e9))
    for _step in range(steps):
        advance(bodies, 0.01)
    print(int(energy(bodies) * 1.0e9))


main()
