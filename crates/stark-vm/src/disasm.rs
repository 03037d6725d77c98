//! A readable listing of a program's bytecode (`stark run --dump-bytecode`).

use crate::bytecode::Instr;
use crate::program::{LayoutKind, Program};
use std::fmt::Write;

/// The whole program, function by function.
pub fn program(prog: &Program) -> String {
    let mut out = String::new();
    for (i, l) in prog.layouts.iter().enumerate() {
        let kind = match &l.kind {
            LayoutKind::Record { fields, .. } => format!("record of {}", fields.len()),
            LayoutKind::Enum { variants } => format!("enum of {}", variants.len()),
            LayoutKind::Variant { of, tag } => format!("variant {tag} of L{of}"),
            LayoutKind::List { .. } => "list".into(),
            LayoutKind::Str => "string".into(),
            LayoutKind::Map { .. } => "map".into(),
            LayoutKind::Set { .. } => "set".into(),
            LayoutKind::Iter => "iterator".into(),
            LayoutKind::Host => "runtime object".into(),
            LayoutKind::Tensor => "tensor".into(),
            LayoutKind::Gc { .. } => "gc cell".into(),
        };
        let _ = writeln!(out, "layout L{i} {}: {kind}", l.name);
    }
    for (i, f) in prog.functions.iter().enumerate() {
        let _ = writeln!(
            out,
            "\nfn F{i} {} (arity {}, registers {}{}{})",
            f.name,
            f.arity,
            f.nregs,
            match f.fill {
                Some((lo, hi)) if lo < hi => format!(", cleared r{lo}..r{hi}"),
                Some(_) => ", none cleared".to_string(),
                None => String::new(),
            },
            if f.has_env { ", closure" } else { "" }
        );
        for (pc, instr) in f.code.iter().enumerate() {
            let (line, site) = f.line_at(pc);
            let from = match site {
                Some(s) => format!(" (inlined F{}, called at line {})", s.callee, s.line),
                None => String::new(),
            };
            let _ = writeln!(out, "  {pc:5}  {:<48} ; line {line}{from}", show(prog, instr, pc));
        }
    }
    out
}

/// One instruction, with jump targets made absolute and sites named.
fn show(prog: &Program, instr: &Instr, pc: usize) -> String {
    let target = |off: i64| (pc as i64 + 1 + off).to_string();
    match *instr {
        Instr::Jmp { off } => format!("Jmp -> {}", target(off as i64)),
        Instr::JmpIf { a, off } => format!("JmpIf r{a} -> {}", target(off as i64)),
        Instr::JmpIfNot { a, off } => format!("JmpIfNot r{a} -> {}", target(off as i64)),
        Instr::JmpIfNone { a, off } => format!("JmpIfNone r{a} -> {}", target(off as i64)),
        Instr::RecvOrJmp { base, off } => format!("RecvOrJmp r{base} -> {}", target(off as i64)),
        Instr::JmpIfSome { a, off } => format!("JmpIfSome r{a} -> {}", target(off as i64)),
        Instr::JmpIfNotLtI { a, b, off } => format!("JmpIfNotLtI r{a} r{b} -> {}", target(off as i64)),
        Instr::JmpIfNotCmpI { op, a, b, off } => format!("JmpIfNot.{op:?}.I r{a} r{b} -> {}", target(off as i64)),
        Instr::JmpIfNotCmpU { op, a, b, off } => format!("JmpIfNot.{op:?}.U r{a} r{b} -> {}", target(off as i64)),
        Instr::JmpIfNotCmpIImm { op, a, imm, off } => {
            format!("JmpIfNot.{op:?}.I r{a} {imm} -> {}", target(off as i64))
        }
        Instr::JmpIfNotTag { obj, tag, off } => format!("JmpIfNotTag r{obj} {tag} -> {}", target(off as i64)),
        Instr::ForLoopI { a, b, off } => format!("ForLoopI r{a}++ < r{b} -> {}", target(off as i64)),
        Instr::ForLoopU { a, b, off } => format!("ForLoopU r{a}++ < r{b} -> {}", target(off as i64)),
        Instr::Call { base, f } => {
            format!("Call r{base} F{f} {}", prog.functions.get(f as usize).map_or("?", |f| f.name.as_str()))
        }
        Instr::Native { base, site } => format!("Native r{base} {:?}", prog.sites[site as usize].native),
        Instr::Arith { op, a, b, c } => format!("Arith.{:?}.{} r{a} r{b} r{c}", op.op(), op.ty().name()),
        Instr::Cmp { op, a, b, c } => format!("Cmp.{:?}.{} r{a} r{b} r{c}", op.op(), op.ty().name()),
        Instr::New { base, l } => format!("New r{base} L{l} {}", prog.layout(l).name),
        other => format!("{other:?}"),
    }
}
