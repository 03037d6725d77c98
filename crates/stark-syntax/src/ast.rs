//! The abstract syntax tree. Every node carries the span of its source.

use crate::lexer::{FloatSuffix, FormatSpec, IntSuffix};
use crate::source::Span;
use crate::symbol::Symbol;

/// A name and where it was written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: Symbol,
    /// Where.
    pub span: Span,
}

/// A whole source file: its items.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Program {
    /// Top-level items in source order.
    pub items: Vec<Item>,
}

/// `::`-separated segments, with optional generic arguments at the end
/// (`Vec<Int32>` in a type, `size_of::<Int32>` in an expression).
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    /// The segments; `self`, `Self`, `super`, `crate` and primitive type
    /// names appear here by their spelling.
    pub segments: Vec<Ident>,
    /// Generic arguments after the last segment.
    pub generics: Option<Box<GenericArgs>>,
    /// The whole path.
    pub span: Span,
}

/// `<A, B, Item = C>`.
#[derive(Clone, Debug, PartialEq)]
pub struct GenericArgs {
    /// The arguments.
    pub args: Vec<GenericArg>,
    /// From `<` to `>`.
    pub span: Span,
}

/// One generic argument.
#[derive(Clone, Debug, PartialEq)]
pub enum GenericArg {
    /// A type.
    Type(Type),
    /// An associated-type binding `Item = T`.
    Binding(Ident, Type),
}

/// `T: Bound + Other`.
#[derive(Clone, Debug, PartialEq)]
pub struct GenericParam {
    /// The parameter's name.
    pub name: Ident,
    /// Its trait bounds (paths with optional generic arguments).
    pub bounds: Vec<Path>,
}

/// `pub`, `priv`, or nothing.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Visibility {
    /// No modifier.
    #[default]
    Inherited,
    /// `pub`.
    Public(Span),
    /// `priv`.
    Private(Span),
}

/// An item: a declaration at module level (or in a block, in snippet mode).
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// Visibility modifier.
    pub vis: Visibility,
    /// What is declared.
    pub kind: ItemKind,
    /// The `/** ... */` comment before it.
    pub doc: Option<String>,
    /// The whole item.
    pub span: Span,
}

/// The kinds of item.
#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    /// `fn`.
    Fn(FnDecl),
    /// `struct`.
    Struct(StructDecl),
    /// `enum`.
    Enum(EnumDecl),
    /// `trait`.
    Trait(TraitDecl),
    /// `impl`.
    Impl(ImplDecl),
    /// `const`.
    Const(ConstDecl),
    /// `type Name = T;`.
    TypeAlias(TypeAlias),
    /// `use`.
    Use(UseTree),
    /// `mod name;` or `mod name { ... }`.
    Mod(ModDecl),
    /// `actor` (AI extension).
    Actor(ActorDecl),
}

/// A function: signature and (except for trait requirements) body.
#[derive(Clone, Debug, PartialEq)]
pub struct FnDecl {
    /// `async fn`.
    pub is_async: bool,
    /// The name.
    pub name: Ident,
    /// Generic parameters.
    pub generics: Vec<GenericParam>,
    /// `self`, `&self` or `&mut self`.
    pub receiver: Option<Receiver>,
    /// The other parameters.
    pub params: Vec<Param>,
    /// The declared return type; `None` means `Unit`.
    pub ret: Option<RetType>,
    /// The body; `None` for a required trait method.
    pub body: Option<Block>,
    /// The signature, from `fn` (or `async`) to the return type.
    pub sig_span: Span,
}

/// A method receiver.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Receiver {
    /// How `self` is taken.
    pub kind: ReceiverKind,
    /// Where.
    pub span: Span,
}

/// How a method takes `self`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiverKind {
    /// `self`.
    Value,
    /// `&self`.
    Ref,
    /// `&mut self`.
    RefMut,
}

/// A function parameter `[mut] name: Type`.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// `mut name`.
    pub mutable: bool,
    /// The name.
    pub name: Ident,
    /// The type.
    pub ty: Type,
}

/// A declared return type.
#[derive(Clone, Debug, PartialEq)]
pub enum RetType {
    /// An ordinary type.
    Type(Type),
    /// `!`: the function never returns.
    Never(Span),
}

/// `struct Name<T> { fields }`.
#[derive(Clone, Debug, PartialEq)]
pub struct StructDecl {
    /// The name.
    pub name: Ident,
    /// Generic parameters.
    pub generics: Vec<GenericParam>,
    /// The fields.
    pub fields: Vec<FieldDecl>,
}

/// `[pub] name: Type`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    /// `pub`.
    pub public: bool,
    /// The name.
    pub name: Ident,
    /// The type.
    pub ty: Type,
}

/// `enum Name<T> { variants }`.
#[derive(Clone, Debug, PartialEq)]
pub struct EnumDecl {
    /// The name.
    pub name: Ident,
    /// Generic parameters.
    pub generics: Vec<GenericParam>,
    /// The variants.
    pub variants: Vec<Variant>,
}

/// One enum variant.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// The name.
    pub name: Ident,
    /// Its payload.
    pub kind: VariantKind,
    /// The whole variant.
    pub span: Span,
}

/// A variant's payload.
#[derive(Clone, Debug, PartialEq)]
pub enum VariantKind {
    /// `Name`.
    Unit,
    /// `Name(A, B)`.
    Tuple(Vec<Type>),
    /// `Name { a: A }`.
    Struct(Vec<FieldDecl>),
}

/// `trait Name<T> { items }`.
#[derive(Clone, Debug, PartialEq)]
pub struct TraitDecl {
    /// The name.
    pub name: Ident,
    /// Generic parameters.
    pub generics: Vec<GenericParam>,
    /// Methods (with or without default bodies) and associated types.
    pub items: Vec<TraitItem>,
}

/// An item of a trait.
#[derive(Clone, Debug, PartialEq)]
pub enum TraitItem {
    /// A method; `body` is `None` for a required one.
    Fn(Box<FnDecl>),
    /// `type Name;`.
    Type(Ident),
}

/// `impl<T> Type { .. }` or `impl<T> Trait for Type { .. }`.
#[derive(Clone, Debug, PartialEq)]
pub struct ImplDecl {
    /// Generic parameters.
    pub generics: Vec<GenericParam>,
    /// The trait implemented, if any.
    pub trait_: Option<Path>,
    /// The type the methods belong to.
    pub self_ty: Type,
    /// Methods and associated-type values.
    pub items: Vec<ImplItem>,
}

/// An item of an impl block.
#[derive(Clone, Debug, PartialEq)]
pub enum ImplItem {
    /// A method.
    Fn(Visibility, FnDecl),
    /// `type Name = T;`.
    Type(Ident, Type),
}

/// `const NAME: T = e;`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstDecl {
    /// The name.
    pub name: Ident,
    /// The type.
    pub ty: Type,
    /// The value.
    pub value: Expr,
}

/// `type Name<T> = T;`.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeAlias {
    /// The name.
    pub name: Ident,
    /// Generic parameters.
    pub generics: Vec<GenericParam>,
    /// The aliased type.
    pub ty: Type,
}

/// A `use` tree.
#[derive(Clone, Debug, PartialEq)]
pub struct UseTree {
    /// The path before `::*`, `::{..}` or `as`.
    pub path: Path,
    /// What follows the path.
    pub kind: UseKind,
    /// The whole tree.
    pub span: Span,
}

/// What a `use` path imports.
#[derive(Clone, Debug, PartialEq)]
pub enum UseKind {
    /// `use a::b;` or `use a::b as c;`.
    Simple(Option<Ident>),
    /// `use a::*;`.
    Glob,
    /// `use a::{b, c};`.
    Nested(Vec<UseTree>),
}

/// `mod name;` (a file) or `mod name { items }`.
#[derive(Clone, Debug, PartialEq)]
pub struct ModDecl {
    /// The name.
    pub name: Ident,
    /// Inline items; `None` for `mod name;`.
    pub items: Option<Vec<Item>>,
}

/// `actor Name { fields, handlers }` (AI extension).
#[derive(Clone, Debug, PartialEq)]
pub struct ActorDecl {
    /// The name.
    pub name: Ident,
    /// State fields.
    pub fields: Vec<ActorField>,
    /// Handlers (`on_receive`, `on_batch`, ...) and helper methods.
    pub handlers: Vec<FnDecl>,
}

/// `[mut] name: Type [= default]` inside an actor.
#[derive(Clone, Debug, PartialEq)]
pub struct ActorField {
    /// Whether handlers may assign it.
    pub mutable: bool,
    /// The name.
    pub name: Ident,
    /// The type.
    pub ty: Type,
    /// The default value; fields without one are constructor arguments.
    pub default: Option<Expr>,
}

/// A type as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Type {
    /// What kind of type.
    pub kind: TypeKind,
    /// Where.
    pub span: Span,
}

/// The kinds of type syntax.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    /// A named type, possibly generic (primitives included): `Vec<Int32>`.
    Path(Path),
    /// `[T; N]`.
    Array(Box<Type>, u64),
    /// `[T]`.
    Slice(Box<Type>),
    /// `()`, `(T,)`, `(A, B)`.
    Tuple(Vec<Type>),
    /// `(T)`: just `T`.
    Paren(Box<Type>),
    /// `&T` or `&mut T`.
    Ref { mutable: bool, ty: Box<Type> },
    /// `fn(A, B) -> R`.
    Fn { params: Vec<Type>, ret: Option<Box<Type>> },
    /// `Tensor<DType>[d0, d1, ..]` (AI extension).
    Tensor { path: Path, dims: Vec<Dim> },
}

/// One dimension of a tensor type.
#[derive(Clone, Debug, PartialEq)]
pub struct Dim {
    /// Its kind.
    pub kind: DimKind,
    /// Where.
    pub span: Span,
}

/// A tensor dimension: known, named, or unknown.
#[derive(Clone, Debug, PartialEq)]
pub enum DimKind {
    /// An integer literal.
    Known(u64),
    /// A named dimension, unified across one signature.
    Named(Symbol),
    /// `?`: known only at run time.
    Unknown,
}

/// A block `{ statements; tail }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// The statements.
    pub stmts: Vec<Stmt>,
    /// The final expression without `;`: the block's value.
    pub tail: Option<Box<Expr>>,
    /// From `{` to `}`.
    pub span: Span,
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// What kind.
    pub kind: StmtKind,
    /// Where.
    pub span: Span,
}

/// The kinds of statement.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `;`.
    Empty,
    /// An expression; `semi` tells whether it ended with `;` (block-formed
    /// expressions may omit it).
    Expr { expr: Expr, semi: bool },
    /// `let`.
    Let(Box<LetStmt>),
    /// `return [e];`.
    Return(Option<Expr>),
    /// `break [e];`.
    Break(Option<Expr>),
    /// `continue;`.
    Continue,
    /// An item (only in snippet mode).
    Item(Box<Item>),
}

/// `[shared] let [mut] name[: T] [= e];`.
#[derive(Clone, Debug, PartialEq)]
pub struct LetStmt {
    /// `shared let` (AI extension): a shared memory zone.
    pub shared: bool,
    /// `let mut`.
    pub mutable: bool,
    /// The name bound.
    pub name: Ident,
    /// The declared type.
    pub ty: Option<Type>,
    /// The initialiser.
    pub init: Option<Expr>,
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What kind.
    pub kind: ExprKind,
    /// Where.
    pub span: Span,
}

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    /// An integer.
    Int { value: u64, suffix: Option<IntSuffix> },
    /// A float.
    Float { value: f64, suffix: Option<FloatSuffix> },
    /// A string.
    Str(Box<str>),
    /// A character.
    Char(char),
    /// `true` or `false`.
    Bool(bool),
}

/// A piece of an interpolated string.
#[derive(Clone, Debug, PartialEq)]
pub enum FmtPart {
    /// Literal text.
    Text(String),
    /// `{expr:spec}`.
    Field { expr: Box<Expr>, spec: Option<FormatSpec> },
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `-`.
    Neg,
    /// `!`.
    Not,
    /// `~`.
    BitNot,
    /// `*`.
    Deref,
    /// `&`.
    Ref,
    /// `&mut`.
    RefMut,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
}

impl BinOp {
    /// The operator's spelling.
    pub fn as_str(self) -> &'static str {
        use BinOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Rem => "%",
            Pow => "**",
            Eq => "==",
            Ne => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            And => "&&",
            Or => "||",
            BitAnd => "&",
            BitOr => "|",
            BitXor => "^",
            Shl => "<<",
            Shr => ">>",
        }
    }
}

/// `name: expr` (or the shorthand `name`) in a struct literal.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldInit {
    /// The field.
    pub name: Ident,
    /// Its value; for the shorthand, a path expression naming `name`.
    pub value: Expr,
    /// Whether it was written as the shorthand.
    pub shorthand: bool,
}

/// `pattern => expr` in a match.
#[derive(Clone, Debug, PartialEq)]
pub struct Arm {
    /// The pattern.
    pub pattern: Pattern,
    /// The result.
    pub body: Expr,
    /// The whole arm.
    pub span: Span,
}

/// A closure parameter `name[: Type]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ClosureParam {
    /// The name.
    pub name: Ident,
    /// The declared type, if written.
    pub ty: Option<Type>,
}

/// `pattern = operation => body` in a `select` (AI extension).
#[derive(Clone, Debug, PartialEq)]
pub struct SelectArm {
    /// What the operation's result is bound to.
    pub pattern: Pattern,
    /// The operation waited on (`ch.recv()`, `sleep(d)`, a future).
    pub op: Expr,
    /// What runs when this operation is first ready.
    pub body: Expr,
    /// The whole arm.
    pub span: Span,
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A literal.
    Lit(Lit),
    /// `f"..."`.
    FormatStr(Vec<FmtPart>),
    /// A path: a variable, function, constant or unit variant.
    Path(Path),
    /// `-e`, `!e`, `~e`, `*e`, `&e`, `&mut e`.
    Unary(UnOp, Box<Expr>),
    /// `a op b`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `a = b` (`op` is `None`) or `a op= b`.
    Assign { op: Option<BinOp>, target: Box<Expr>, value: Box<Expr> },
    /// `a..b` or `a..=b`.
    Range { start: Box<Expr>, end: Box<Expr>, inclusive: bool },
    /// `e as T`.
    Cast(Box<Expr>, Box<Type>),
    /// `f(args)`.
    Call(Box<Expr>, Vec<Expr>),
    /// `receiver.method(args)`.
    MethodCall { receiver: Box<Expr>, method: Ident, args: Vec<Expr> },
    /// `e.field`.
    Field(Box<Expr>, Ident),
    /// `e.0`.
    TupleField(Box<Expr>, u32, Span),
    /// `e[i]`.
    Index(Box<Expr>, Box<Expr>),
    /// `e?`.
    Try(Box<Expr>),
    /// `()`, `(a,)`, `(a, b)`.
    Tuple(Vec<Expr>),
    /// `(e)`.
    Paren(Box<Expr>),
    /// `[a, b]`.
    Array(Vec<Expr>),
    /// `[value; count]`.
    ArrayRepeat(Box<Expr>, Box<Expr>),
    /// `Path { fields, ..base }` (`..base` is the AI extension's struct update).
    Struct { path: Path, fields: Vec<FieldInit>, base: Option<Box<Expr>> },
    /// `if c { } else ..`; `else_` is a block or another `if`.
    If { cond: Box<Expr>, then: Block, else_: Option<Box<Expr>> },
    /// `match e { arms }`.
    Match { scrutinee: Box<Expr>, arms: Vec<Arm> },
    /// `loop { }`.
    Loop(Block),
    /// `while c { }`.
    While { cond: Box<Expr>, body: Block },
    /// `for x in e { }`.
    For { var: Ident, iter: Box<Expr>, body: Block },
    /// `{ }`.
    Block(Block),
    /// `|params| body` or `move |params| -> T { }` (AI extension).
    Closure { is_move: bool, params: Vec<ClosureParam>, ret: Option<Box<Type>>, body: Box<Expr> },
    /// `await e` or `e.await` (AI extension).
    Await(Box<Expr>),
    /// `spawn call(..)` or `spawn { }` (AI extension).
    Spawn(Box<Expr>),
    /// `select { arms }` (AI extension).
    Select(Vec<SelectArm>),
    /// A piece the parser could not read; its error was reported.
    Error,
}

/// A pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    /// What kind.
    pub kind: PatternKind,
    /// Where.
    pub span: Span,
}

/// `field: pattern` or the shorthand `field`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldPattern {
    /// The field.
    pub name: Ident,
    /// The sub-pattern; for the shorthand, a binding of `name`.
    pub pattern: Pattern,
}

/// The kinds of pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum PatternKind {
    /// A literal, matched by value.
    Lit(Lit),
    /// `_`.
    Wildcard,
    /// A single name: a binding, or a unit variant or constant in scope.
    Ident(Ident),
    /// A multi-segment path: a unit variant or constant.
    Path(Path),
    /// `Path(p, ..)`.
    TupleStruct(Path, Vec<Pattern>),
    /// `Path { field: p, .. }`.
    Struct(Path, Vec<FieldPattern>),
    /// `(p, q)`, `(p,)` or `()`.
    Tuple(Vec<Pattern>),
    /// `[p, q]`.
    Array(Vec<Pattern>),
}

#[cfg(test)]
mod size_tests {
    use super::*;

    /// Nodes are moved a lot while parsing: a change that bloats them
    /// should be deliberate.
    #[test]
    fn node_sizes() {
        assert_eq!(std::mem::size_of::<Expr>(), 80);
        assert_eq!(std::mem::size_of::<Type>(), 72);
        assert_eq!(std::mem::size_of::<Stmt>(), 96);
        assert_eq!(std::mem::size_of::<crate::lexer::Token>(), 32);
    }
}
