//! rlce-rsplit: the interface side of rlce's split Rust assertion tests
//! (docs/SPLIT_TESTS.md). The test runs in its own process and reaches the
//! program's functions through rlce_wire (wire.rs); this tool writes the code
//! on both ends from the program's top-level signatures, parsed with syn (a
//! real Rust parser, Debian's librust-syn-dev) rather than by hand.
//!
//! ```text
//! rlce-rsplit program PROGRAM.rs DISPATCH.rs REPORT.rs   (program build, candidate uid)
//! rlce-rsplit test REPORT.rs TEST.rs STUBS.rs            (test build, judge uid)
//! ```
//!
//! `program` writes the dispatcher compiled into the program's process and the
//! report: the program's top-level `fn` signatures and `struct`/`enum`
//! definitions, re-printed from syn's syntax tree.
//!
//! `test` treats the report as untrusted. It accepts only fn items with empty
//! bodies and struct/enum items, accepts a type only from a closed grammar
//! (`Ty`), and writes every stub and type from its own validated tree, never
//! from the report's text. A function outside the grammar gets no stub; if the
//! test mentions it, the step exits 113 (`rlce: unsupported: function NAME:
//! type TYPE`). A test without any `#[test]` exits 114. A report that is not
//! made of the expected items exits 1 (a compile error of the program).
#![allow(clippy::all)]

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::str::FromStr;

/// Names never given to a stub or a regenerated type: a program function
/// named `Some` or `drop`, or a type named `Vec`, would otherwise shadow the
/// standard name in the test's `use super::*` (a glob import beats the std
/// prelude). The list is the Rust 2021 prelude, the primitive types, the
/// names HumanEval-X's declaration imports (the test crate imports them too),
/// and the crates and modules the test crate has.
const RESERVED: &[&str] = &[
    "Copy", "Send", "Sized", "Sync", "Unpin", "Drop", "Fn", "FnMut", "FnOnce", "drop", "Box", "ToOwned",
    "Clone", "PartialEq", "PartialOrd", "Eq", "Ord", "AsRef", "AsMut", "Into", "From", "Default", "Iterator",
    "Extend", "IntoIterator", "DoubleEndedIterator", "ExactSizeIterator", "Option", "Some", "None", "Result",
    "Ok", "Err", "String", "ToString", "Vec", "TryFrom", "TryInto", "FromIterator", "Debug", "Display", "Hash",
    "Hasher", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "f32",
    "f64", "bool", "char", "str", "Iter", "max", "cmp", "replace", "HashSet", "HashMap", "BTreeMap",
    "BTreeSet", "Index", "AsciiExt", "Rng", "Regex", "md5", "Any", "TypeId", "rand", "regex", "std", "core",
    "alloc", "test", "tests", "main", "rlce_wire",
];
/// Derives the regenerated types may keep (they are rustc's code, not the program's).
const DERIVES: &[&str] = &["Debug", "Clone", "Copy", "PartialEq", "Eq", "PartialOrd", "Ord", "Hash", "Default"];
/// Paths that may stand before a standard type's name (`std::collections::HashMap`).
const STD_PREFIX: &[&str] = &["std", "core", "alloc", "collections", "vec", "string", "option", "boxed", "any"];
const MAX_TYPE_DEPTH: usize = 32;
const MAX_ARRAY: usize = 1 << 16;
const MAX_PARAMS: usize = 64;
const MAX_REPORT: usize = 60 * 1024;

/// The closed grammar of types the wire carries.
#[derive(Clone, Debug)]
enum Ty {
    Prim(&'static str), // integers, floats, bool, char
    Str,                // only behind a reference
    String,
    Unit,
    Vec(Box<Ty>),
    Slice(Box<Ty>), // only behind a reference
    Array(Box<Ty>, usize),
    Option(Box<Ty>),
    Tuple(Vec<Ty>),
    Map(&'static str, Box<Ty>, Box<Ty>),
    Set(&'static str, Box<Ty>),
    BoxAny,
    DynAny,                     // only behind a reference
    Ref(Option<String>, Box<Ty>), // shared references; Some(lifetime name)
    User(String, Vec<Ty>),
    Param(String),
}

const PRIMS: &[&str] = &[
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "f32", "f64", "bool",
    "char",
];

/// What names a type may use where it stands.
struct Scope<'s> {
    /// Declared lifetimes of the function; None inside a type definition
    /// (only `'static` there).
    lifetimes: Option<&'s [String]>,
    params: &'s [String],
    types: &'s BTreeMap<String, usize>,
}

/// Printable, bounded text of untrusted syntax for a message.
fn shown<T: ToTokens>(t: &T) -> String {
    clean(&t.to_token_stream().to_string())
}

fn clean(s: &str) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(200).collect();
    if out.len() < s.len() && s.chars().count() > 200 {
        out.push_str("...");
    }
    out
}

fn ident_ok(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && s != "_"
        && !s.starts_with("__") // the generated code's own names (__c, __rlce_0, __f0, ...)
        && !s.starts_with("rlce_")
}

fn name_ok(s: &str) -> bool {
    ident_ok(s) && !RESERVED.contains(&s)
}

fn lifetime(l: &syn::Lifetime, sc: &Scope) -> Result<Option<String>, String> {
    let n = l.ident.to_string();
    if n == "static" {
        return Ok(Some(n));
    }
    match sc.lifetimes {
        Some(_) if n == "_" => Ok(None),
        Some(decl) if decl.contains(&n) => Ok(Some(n)),
        _ => Err(format!("{} (an undeclared or non-static lifetime)", clean(&l.to_string()))),
    }
}

/// `dyn Any` (std::any::Any), alone.
fn is_dyn_any(t: &syn::TypeTraitObject) -> bool {
    if t.dyn_token.is_none() || t.bounds.len() != 1 {
        return false;
    }
    match &t.bounds[0] {
        syn::TypeParamBound::Trait(tb) => {
            matches!(tb.modifier, syn::TraitBoundModifier::None)
                && tb.lifetimes.is_none()
                && std_path(&tb.path, "Any").map_or(false, |args| args.is_empty())
        }
        _ => false,
    }
}

/// When `p` names the standard `name` (alone or after std prefixes), its angle arguments.
fn std_path<'p>(p: &'p syn::Path, name: &str) -> Option<Vec<&'p syn::GenericArgument>> {
    let n = p.segments.len();
    let last = p.segments.last()?;
    if last.ident != name {
        return None;
    }
    for s in p.segments.iter().take(n - 1) {
        if !matches!(s.arguments, syn::PathArguments::None) || !STD_PREFIX.contains(&s.ident.to_string().as_str()) {
            return None;
        }
    }
    match &last.arguments {
        syn::PathArguments::None => Some(vec![]),
        syn::PathArguments::AngleBracketed(a) => Some(a.args.iter().collect()),
        syn::PathArguments::Parenthesized(_) => None,
    }
}

fn conv(t: &syn::Type, sc: &Scope, unsized_ok: bool, depth: usize) -> Result<Ty, String> {
    let refuse = || Err(shown(t));
    if depth > MAX_TYPE_DEPTH {
        return Err(format!("{} (nested too deeply)", shown(t)));
    }
    match t {
        syn::Type::Paren(p) => conv(&p.elem, sc, unsized_ok, depth + 1),
        syn::Type::Group(g) => conv(&g.elem, sc, unsized_ok, depth + 1),
        syn::Type::Tuple(tt) => {
            if tt.elems.is_empty() {
                return Ok(Ty::Unit);
            }
            if tt.elems.len() > 12 {
                return refuse();
            }
            let v: Result<Vec<Ty>, String> = tt.elems.iter().map(|e| conv(e, sc, false, depth + 1)).collect();
            Ok(Ty::Tuple(v?))
        }
        syn::Type::Reference(r) => {
            if r.mutability.is_some() {
                return refuse();
            }
            let lt = match &r.lifetime {
                Some(l) => lifetime(l, sc)?,
                None if sc.lifetimes.is_some() => None,
                None => return refuse(),
            };
            Ok(Ty::Ref(lt, Box::new(conv(&r.elem, sc, true, depth + 1)?)))
        }
        syn::Type::Slice(s) if unsized_ok => Ok(Ty::Slice(Box::new(conv(&s.elem, sc, false, depth + 1)?))),
        syn::Type::TraitObject(o) if unsized_ok && is_dyn_any(o) => Ok(Ty::DynAny),
        syn::Type::Array(a) => {
            let n = match &a.len {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), attrs }) if attrs.is_empty() => {
                    if !(i.suffix().is_empty() || i.suffix() == "usize") {
                        return refuse();
                    }
                    match i.base10_parse::<usize>() {
                        Ok(n) if n <= MAX_ARRAY => n,
                        _ => return refuse(),
                    }
                }
                _ => return refuse(),
            };
            let elem = conv(&a.elem, sc, false, depth + 1)?;
            // nested arrays: the whole value is built on the stack
            let mut total = n;
            let mut inner = &elem;
            while let Ty::Array(e, m) = inner {
                total = total.saturating_mul(*m);
                inner = e;
            }
            if total > MAX_ARRAY {
                return Err(format!("{} (an array of more than 65536 elements)", shown(t)));
            }
            Ok(Ty::Array(Box::new(elem), n))
        }
        syn::Type::Path(p) if p.qself.is_none() => {
            let path = &p.path;
            let last = match path.segments.last() {
                Some(l) => l.ident.to_string(),
                None => return refuse(),
            };
            // a single plain name: a type parameter or a program type
            if path.leading_colon.is_none() && path.segments.len() == 1 {
                let seg = &path.segments[0];
                if sc.params.contains(&last) {
                    return if matches!(seg.arguments, syn::PathArguments::None) { Ok(Ty::Param(last)) } else { refuse() };
                }
                if let Some(&arity) = sc.types.get(&last) {
                    let args: Vec<&syn::GenericArgument> = match &seg.arguments {
                        syn::PathArguments::None => vec![],
                        syn::PathArguments::AngleBracketed(a) => a.args.iter().collect(),
                        _ => return refuse(),
                    };
                    if args.len() != arity {
                        return refuse();
                    }
                    let mut v = Vec::new();
                    for a in args {
                        match a {
                            syn::GenericArgument::Type(t) => v.push(conv(t, sc, false, depth + 1)?),
                            _ => return refuse(),
                        }
                    }
                    return Ok(Ty::User(last, v));
                }
            }
            let args = match std_path(path, &last) {
                Some(a) => a,
                None => return refuse(),
            };
            let mut tys = Vec::new();
            for a in &args {
                match a {
                    syn::GenericArgument::Type(syn::Type::TraitObject(o)) if last == "Box" && is_dyn_any(o) => {
                        tys.push(Ty::DynAny)
                    }
                    syn::GenericArgument::Type(t) => tys.push(conv(t, sc, false, depth + 1)?),
                    _ => return refuse(),
                }
            }
            let one = |tys: &mut Vec<Ty>| Box::new(tys.remove(0));
            Ok(match (last.as_str(), tys.len()) {
                (p, 0) if PRIMS.contains(&p) => Ty::Prim(*PRIMS.iter().find(|x| **x == p).unwrap()),
                ("str", 0) if unsized_ok => Ty::Str,
                ("String", 0) => Ty::String,
                ("Vec", 1) => Ty::Vec(one(&mut tys)),
                ("Option", 1) => {
                    if matches!(tys[0], Ty::Option(_)) {
                        return Err(format!("{} (None and Some(None) would look alike)", shown(t)));
                    }
                    Ty::Option(one(&mut tys))
                }
                ("HashSet", 1) | ("BTreeSet", 1) => Ty::Set(if last == "HashSet" { "HashSet" } else { "BTreeSet" }, one(&mut tys)),
                ("HashMap", 2) | ("BTreeMap", 2) => {
                    let k = one(&mut tys);
                    let v = one(&mut tys);
                    Ty::Map(if last == "HashMap" { "HashMap" } else { "BTreeMap" }, k, v)
                }
                ("Box", 1) if matches!(tys[0], Ty::DynAny) => Ty::BoxAny,
                _ => return refuse(),
            })
        }
        _ => refuse(),
    }
}

fn refs(t: &Ty, out: &mut BTreeSet<String>) {
    match t {
        Ty::Vec(x) | Ty::Slice(x) | Ty::Array(x, _) | Ty::Option(x) | Ty::Set(_, x) | Ty::Ref(_, x) => refs(x, out),
        Ty::Tuple(v) => v.iter().for_each(|x| refs(x, out)),
        Ty::Map(_, k, v) => {
            refs(k, out);
            refs(v, out)
        }
        Ty::User(n, v) => {
            out.insert(n.clone());
            v.iter().for_each(|x| refs(x, out))
        }
        _ => {}
    }
}

/// Rust text of a validated type; `stat` makes every reference `'static`
/// (the type a reply is decoded as: borrowed values are leaked).
fn render(t: &Ty, stat: bool) -> String {
    let r = |x: &Ty| render(x, stat);
    match t {
        Ty::Prim(p) => p.to_string(),
        Ty::Str => "str".into(),
        Ty::String => "::std::string::String".into(),
        Ty::Unit => "()".into(),
        Ty::Vec(x) => format!("::std::vec::Vec<{}>", r(x)),
        Ty::Slice(x) => format!("[{}]", r(x)),
        Ty::Array(x, n) => format!("[{}; {}]", r(x), n),
        Ty::Option(x) => format!("::std::option::Option<{}>", r(x)),
        Ty::Tuple(v) => {
            let parts: Vec<String> = v.iter().map(|x| r(x)).collect();
            format!("({},)", parts.join(", "))
        }
        Ty::Map(k, a, b) => format!("::std::collections::{}<{}, {}>", k, r(a), r(b)),
        Ty::Set(k, a) => format!("::std::collections::{}<{}>", k, r(a)),
        Ty::BoxAny => "::std::boxed::Box<dyn ::std::any::Any>".into(),
        Ty::DynAny => "dyn ::std::any::Any".into(),
        Ty::Ref(l, x) => match (stat, l) {
            (true, _) => format!("&'static {}", r(x)),
            (false, Some(l)) => format!("&'{} {}", l, r(x)),
            (false, None) => format!("&{}", r(x)),
        },
        Ty::User(n, v) if v.is_empty() => n.clone(),
        Ty::User(n, v) => {
            let parts: Vec<String> = v.iter().map(|x| r(x)).collect();
            format!("{}<{}>", n, parts.join(", "))
        }
        Ty::Param(p) => p.clone(),
    }
}

// ---------------------------------------------------------------- program-defined types

#[derive(Clone)]
enum Shape {
    Unit,
    Tuple(Vec<Ty>),
    Named(Vec<(String, Ty)>),
}

#[derive(Clone)]
enum Body {
    Struct(Shape),
    Enum(Vec<(String, Shape)>),
}

#[derive(Clone)]
struct UserTy {
    name: String,
    params: Vec<String>,
    derives: Vec<String>,
    body: Body,
}

/// A type definition's generics: plain type parameters only.
fn type_params(g: &syn::Generics) -> Result<Vec<String>, String> {
    if g.where_clause.is_some() {
        return Err("a where clause".into());
    }
    let mut out = Vec::new();
    for p in &g.params {
        match p {
            syn::GenericParam::Type(t) if t.bounds.is_empty() && t.default.is_none() && t.attrs.is_empty() => {
                let n = t.ident.to_string();
                if !name_ok(&n) || out.contains(&n) {
                    return Err(format!("type parameter {}", clean(&n)));
                }
                out.push(n)
            }
            _ => return Err(format!("generic parameter {}", shown(p))),
        }
    }
    Ok(out)
}

fn shape(f: &syn::Fields, sc: &Scope) -> Result<Shape, String> {
    Ok(match f {
        syn::Fields::Unit => Shape::Unit,
        syn::Fields::Unnamed(u) => {
            let mut v = Vec::new();
            for x in &u.unnamed {
                v.push(conv(&x.ty, sc, false, 0)?);
            }
            Shape::Tuple(v)
        }
        syn::Fields::Named(n) => {
            let mut v = Vec::new();
            for x in &n.named {
                let name = x.ident.as_ref().map(|i| i.to_string()).unwrap_or_default();
                if !ident_ok(&name) || v.iter().any(|(m, _)| *m == name) {
                    return Err(format!("field {}", clean(&name)));
                }
                v.push((name, conv(&x.ty, sc, false, 0)?));
            }
            Shape::Named(v)
        }
    })
}

/// The derives of `attrs`. `strict`: any other attribute, or a derive outside
/// the list, refuses the type (the test side); else they are dropped.
fn derives(attrs: &[syn::Attribute], strict: bool) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for a in attrs {
        if !a.path.is_ident("derive") {
            if strict {
                return Err(format!("attribute {}", shown(a)));
            }
            continue;
        }
        let list = match a.parse_meta() {
            Ok(syn::Meta::List(l)) => l,
            _ => return Err(format!("attribute {}", shown(a))),
        };
        for n in &list.nested {
            let id = match n {
                syn::NestedMeta::Meta(syn::Meta::Path(p)) => p.get_ident().map(|i| i.to_string()),
                _ => None,
            };
            match id {
                Some(d) if DERIVES.contains(&d.as_str()) => {
                    if !out.contains(&d) {
                        out.push(d)
                    }
                }
                _ if strict => return Err(format!("derive {}", shown(n))),
                _ => {}
            }
        }
    }
    Ok(out)
}

/// A struct or enum the wire carries, or why not.
fn user_type(item: &syn::Item, types: &BTreeMap<String, usize>, strict: bool) -> Result<UserTy, String> {
    let (ident, generics, attrs) = match item {
        syn::Item::Struct(s) => (&s.ident, &s.generics, &s.attrs),
        syn::Item::Enum(e) => (&e.ident, &e.generics, &e.attrs),
        _ => return Err("not a struct or enum".into()),
    };
    let name = ident.to_string();
    let params = type_params(generics)?;
    let mut derives = derives(attrs, strict)?;
    if matches!(item, syn::Item::Enum(_)) {
        derives.retain(|d| d != "Default"); // needs a #[default] variant attribute, which is not carried
    }
    let sc = Scope { lifetimes: None, params: &params, types };
    let body = match item {
        syn::Item::Struct(s) => Body::Struct(shape(&s.fields, &sc)?),
        syn::Item::Enum(e) => {
            let mut v: Vec<(String, Shape)> = Vec::new();
            for var in &e.variants {
                let vn = var.ident.to_string();
                if var.discriminant.is_some() || !ident_ok(&vn) || v.iter().any(|(m, _)| *m == vn) {
                    return Err(format!("variant {}", clean(&vn)));
                }
                if strict && !var.attrs.is_empty() {
                    return Err(format!("variant {}", clean(&vn)));
                }
                v.push((vn, shape(&var.fields, &sc)?));
            }
            Body::Enum(v)
        }
        _ => unreachable!(),
    };
    Ok(UserTy { name, params, derives, body })
}

fn struct_or_enum_name(item: &syn::Item) -> Option<(String, usize)> {
    match item {
        syn::Item::Struct(s) => Some((s.ident.to_string(), s.generics.params.len())),
        syn::Item::Enum(e) => Some((e.ident.to_string(), e.generics.params.len())),
        _ => None,
    }
}

/// The program-defined types the wire carries: valid alone, and referring
/// only to types that are carried too (removed until nothing changes).
fn carried_types(items: &[&syn::Item], strict: bool) -> BTreeMap<String, UserTy> {
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for it in items {
        if let Some((n, a)) = struct_or_enum_name(it) {
            if !seen.insert(n.clone()) {
                names.remove(&n); // defined twice: neither
                continue;
            }
            if name_ok(&n) {
                names.insert(n, a);
            }
        }
    }
    loop {
        let mut ok: BTreeMap<String, UserTy> = BTreeMap::new();
        for it in items {
            if let Some((n, _)) = struct_or_enum_name(it) {
                if names.contains_key(&n) {
                    if let Ok(u) = user_type(it, &names, strict) {
                        ok.insert(n, u);
                    }
                }
            }
        }
        let before = names.len();
        names.retain(|n, _| ok.contains_key(n));
        if names.len() == before {
            return ok;
        }
    }
}

// ---------------------------------------------------------------- functions

struct FnSig {
    name: String,
    lifetimes: Vec<String>,
    params: Vec<Ty>,
    ret: Ty,
}

/// A top-level function the wire carries, or the type that stops it.
fn check_fn(sig: &syn::Signature, types: &BTreeMap<String, usize>) -> Result<FnSig, String> {
    let name = sig.ident.to_string();
    if sig.asyncness.is_some() {
        return Err("async fn".into());
    }
    if sig.unsafety.is_some() {
        return Err("unsafe fn".into());
    }
    if sig.abi.is_some() {
        return Err(format!("{} fn", shown(&sig.abi)));
    }
    if sig.variadic.is_some() {
        return Err("... (variadic)".into());
    }
    if let Some(w) = &sig.generics.where_clause {
        for p in &w.predicates {
            if !matches!(p, syn::WherePredicate::Lifetime(_)) {
                return Err(format!("{} (a where clause)", shown(p)));
            }
        }
    }
    let mut lifetimes = Vec::new();
    for p in &sig.generics.params {
        match p {
            syn::GenericParam::Lifetime(l) => {
                let n = l.lifetime.ident.to_string();
                if !ident_ok(&n) || lifetimes.contains(&n) {
                    return Err(format!("{} (a lifetime)", shown(&l.lifetime)));
                }
                lifetimes.push(n)
            }
            syn::GenericParam::Type(t) => return Err(format!("{} (a generic type parameter)", shown(&t.ident))),
            syn::GenericParam::Const(c) => return Err(format!("{} (a const generic)", shown(&c.ident))),
        }
    }
    if sig.inputs.len() > MAX_PARAMS {
        return Err("more than 64 parameters".into());
    }
    let sc = Scope { lifetimes: Some(&lifetimes), params: &[], types };
    let mut params = Vec::new();
    for a in &sig.inputs {
        match a {
            syn::FnArg::Typed(pt) => params.push(conv(&pt.ty, &sc, false, 0)?),
            syn::FnArg::Receiver(r) => return Err(shown(r)),
        }
    }
    let ret = match &sig.output {
        syn::ReturnType::Default => Ty::Unit,
        syn::ReturnType::Type(_, t) => conv(t, &sc, false, 0)?,
    };
    Ok(FnSig { name, lifetimes, params, ret })
}

// ---------------------------------------------------------------- generated code

/// `Enc`/`Dec` impls of a carried type (both processes use the same shape).
fn wire_impls(u: &UserTy, out: &mut String) {
    let gen = |bound: &str| {
        if u.params.is_empty() {
            String::new()
        } else {
            let v: Vec<String> = u.params.iter().map(|p| format!("{}: ::rlce_wire::{}", p, bound)).collect();
            format!("<{}>", v.join(", "))
        }
    };
    let me = if u.params.is_empty() { u.name.clone() } else { format!("{}<{}>", u.name, u.params.join(", ")) };
    // a pattern binding every field to __f0.., and the expression rebuilding it from the reader
    fn pat(path: &str, s: &Shape) -> (String, usize) {
        match s {
            Shape::Unit => (path.to_string(), 0),
            Shape::Tuple(v) => {
                let f: Vec<String> = (0..v.len()).map(|i| format!("__f{}", i)).collect();
                (format!("{}({})", path, f.join(", ")), v.len())
            }
            Shape::Named(v) => {
                let f: Vec<String> = v.iter().enumerate().map(|(i, (n, _))| format!("{}: __f{}", n, i)).collect();
                (format!("{} {{ {} }}", path, f.join(", ")), v.len())
            }
        }
    }
    fn build(path: &str, s: &Shape) -> String {
        let d = "::rlce_wire::Dec::dec(__r)?";
        match s {
            Shape::Unit => path.to_string(),
            Shape::Tuple(v) => format!("{}({})", path, vec![d; v.len()].join(", ")),
            Shape::Named(v) => {
                let f: Vec<String> = v.iter().map(|(n, _)| format!("{}: {}", n, d)).collect();
                format!("{} {{ {} }}", path, f.join(", "))
            }
        }
    }
    let encs = |n: usize| -> String { (0..n).map(|i| format!("::rlce_wire::Enc::enc(__f{}, __w)?; ", i)).collect() };
    let _ = writeln!(out, "impl{} ::rlce_wire::Enc for {} {{", gen("Enc"), me);
    let _ = writeln!(out, "    fn enc(&self, __w: &mut ::std::vec::Vec<u8>) -> ::rlce_wire::EncResult {{");
    let _ = writeln!(out, "        match self {{");
    match &u.body {
        Body::Struct(s) => {
            let (p, n) = pat("Self", s);
            let _ = writeln!(out, "            {} => {{ ::rlce_wire::put_tuple(__w, {})?; {}}}", p, n, encs(n));
        }
        Body::Enum(vs) => {
            for (vn, s) in vs {
                let (p, n) = pat(&format!("Self::{}", vn), s);
                let _ = writeln!(out, "            {} => {{ ::rlce_wire::put_variant(__w, \"{}\", {})?; {}}}", p, vn, n, encs(n));
            }
        }
    }
    let _ = writeln!(out, "        }}\n        ::std::result::Result::Ok(())\n    }}\n}}");
    let _ = writeln!(out, "impl{} ::rlce_wire::Dec for {} {{", gen("Dec"), me);
    let _ = writeln!(out, "    fn dec(__r: &mut ::rlce_wire::Reader) -> ::std::result::Result<Self, ::rlce_wire::Bad> {{");
    match &u.body {
        Body::Struct(s) => {
            let n = match s {
                Shape::Unit => 0,
                Shape::Tuple(v) => v.len(),
                Shape::Named(v) => v.len(),
            };
            let _ = writeln!(out, "        __r.tuple({})?;", n);
            let _ = writeln!(out, "        __r.nested(|__r| ::std::result::Result::Ok({}))", build("Self", s));
        }
        Body::Enum(vs) => {
            let _ = writeln!(out, "        let (__v, __n) = __r.variant()?;");
            let _ = writeln!(out, "        __r.nested(|__r| match __v.as_str() {{");
            for (vn, s) in vs {
                let n = match s {
                    Shape::Unit => 0,
                    Shape::Tuple(v) => v.len(),
                    Shape::Named(v) => v.len(),
                };
                let _ = writeln!(
                    out,
                    "            \"{}\" => {{ __r.fields(__n, {})?; ::std::result::Result::Ok({}) }}",
                    vn,
                    n,
                    build(&format!("Self::{}", vn), s)
                );
            }
            let _ = writeln!(out, "            _ => __r.bad(\"unknown enum variant\"),\n        }})");
        }
    }
    let _ = writeln!(out, "    }}\n}}");
}

/// The test side's copy of a carried type: the program's shape and allowed
/// derives only (its own impls, e.g. a lying PartialEq, do not come along).
fn type_def(u: &UserTy, out: &mut String) {
    if !u.derives.is_empty() {
        let _ = writeln!(out, "#[derive({})]", u.derives.join(", "));
    }
    let gen = if u.params.is_empty() { String::new() } else { format!("<{}>", u.params.join(", ")) };
    fn fields(s: &Shape, public: bool) -> String {
        let p = if public { "pub " } else { "" };
        match s {
            Shape::Unit => String::new(),
            Shape::Tuple(v) => {
                let f: Vec<String> = v.iter().map(|t| format!("{}{}", p, render(t, false))).collect();
                format!("({})", f.join(", "))
            }
            Shape::Named(v) => {
                let f: Vec<String> = v.iter().map(|(n, t)| format!("{}{}: {}", p, n, render(t, false))).collect();
                format!(" {{ {} }}", f.join(", "))
            }
        }
    }
    match &u.body {
        Body::Struct(s) => {
            let semi = if matches!(s, Shape::Named(_)) { "" } else { ";" };
            let _ = writeln!(out, "pub struct {}{}{}{}", u.name, gen, fields(s, true), semi);
        }
        Body::Enum(vs) => {
            let _ = writeln!(out, "pub enum {}{} {{", u.name, gen);
            for (vn, s) in vs {
                let _ = writeln!(out, "    {}{},", vn, fields(s, false));
            }
            let _ = writeln!(out, "}}");
        }
    }
}

fn stub(f: &FnSig, out: &mut String) {
    let lts = if f.lifetimes.is_empty() {
        String::new()
    } else {
        let v: Vec<String> = f.lifetimes.iter().map(|l| format!("'{}", l)).collect();
        format!("<{}>", v.join(", "))
    };
    let params: Vec<String> = f.params.iter().enumerate().map(|(i, t)| format!("__rlce_{}: {}", i, render(t, false))).collect();
    let _ = writeln!(out, "#[allow(warnings)]");
    let _ = writeln!(out, "pub fn {}{}({}) -> {} {{", f.name, lts, params.join(", "), render(&f.ret, false));
    let _ = writeln!(out, "    let mut __c = ::rlce_wire::Call::new(\"{}\", {});", f.name, f.params.len());
    for i in 0..f.params.len() {
        let _ = writeln!(out, "    __c.arg(&__rlce_{});", i);
    }
    let _ = writeln!(out, "    __c.finish::<{}>()\n}}", render(&f.ret, true));
}

/// The canonical report line of a carried function.
fn sig_text(f: &FnSig) -> String {
    let lts = if f.lifetimes.is_empty() {
        String::new()
    } else {
        let v: Vec<String> = f.lifetimes.iter().map(|l| format!("'{}", l)).collect();
        format!("<{}>", v.join(", "))
    };
    let params: Vec<String> = f.params.iter().map(|t| format!("_: {}", render(t, false))).collect();
    format!("fn {}{}({}) -> {} {{}}", f.name, lts, params.join(", "), render(&f.ret, false))
}

fn dispatch_arm(f: &FnSig, out: &mut String) {
    let n = f.params.len();
    let _ = writeln!(out, "        \"{}\" => {{", f.name);
    let _ = writeln!(out, "            __rlce_args.arity({})?;", n);
    for i in 0..n {
        let _ = writeln!(out, "            let __rlce_{} = ::rlce_wire::arg(__rlce_args)?;", i);
    }
    let args: Vec<String> = (0..n).map(|i| format!("__rlce_{}", i)).collect();
    let _ = writeln!(out, "            ::rlce_wire::args_end(__rlce_args)?;");
    let _ = writeln!(
        out,
        "            ::std::result::Result::Ok(::rlce_wire::reply(::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(move || self::{}({})))))",
        f.name,
        args.join(", ")
    );
    let _ = writeln!(out, "        }}");
}

// ---------------------------------------------------------------- program side

/// Items that exist in the program build (no `#[cfg]`, no `#[test]`).
fn live(attrs: &[syn::Attribute]) -> bool {
    !attrs.iter().any(|a| a.path.is_ident("cfg") || a.path.is_ident("test") || a.path.is_ident("cfg_attr"))
}

fn program(src: &str, dispatch_path: &str, report_path: &str) -> Result<(), String> {
    let file = syn::parse_file(src).map_err(|e| {
        let lc = e.span().start();
        format!("the program does not parse: {} (line {}, column {})", e, lc.line, lc.column)
    })?;
    let items: Vec<&syn::Item> = file
        .items
        .iter()
        .filter(|it| match it {
            syn::Item::Fn(f) => live(&f.attrs) && f.sig.ident != "main",
            syn::Item::Struct(s) => live(&s.attrs),
            syn::Item::Enum(e) => live(&e.attrs),
            _ => false,
        })
        .collect();
    let carried = carried_types(&items, false);
    let names: BTreeMap<String, usize> = carried.iter().map(|(n, u)| (n.clone(), u.params.len())).collect();

    // The report is canonical (sorted, parameter names dropped, carried items
    // re-printed from the validated tree) so that programs with the same
    // interface give the same report and can share one test build.
    let mut entries: Vec<(u8, String, String)> = Vec::new();
    let mut dispatch = String::from(
        "// generated by rlce-rsplit: the program's functions, served on fd 3\n\
         #[allow(warnings)]\n\
         pub fn __rlce_dispatch(__rlce_name: &str, __rlce_args: &mut ::rlce_wire::Args) -> ::std::result::Result<::std::vec::Vec<u8>, ::std::string::String> {\n    match __rlce_name {\n",
    );
    let mut impls = String::new();
    for it in &items {
        match it {
            syn::Item::Fn(f) => {
                let name = f.sig.ident.to_string();
                match check_fn(&f.sig, &names) {
                    Ok(sig) if name_ok(&sig.name) => {
                        dispatch_arm(&sig, &mut dispatch);
                        entries.push((1, name, sig_text(&sig)));
                    }
                    _ => {
                        let mut g = (*f).clone();
                        g.attrs.clear();
                        g.vis = syn::Visibility::Inherited;
                        g.block = Box::new(syn::parse_quote!({}));
                        for a in g.sig.inputs.iter_mut() {
                            if let syn::FnArg::Typed(pt) = a {
                                pt.attrs.clear();
                                pt.pat = Box::new(syn::parse_quote!(_));
                            }
                        }
                        entries.push((1, name, g.to_token_stream().to_string()));
                    }
                }
            }
            syn::Item::Struct(_) | syn::Item::Enum(_) => {
                let (name, _) = struct_or_enum_name(it).unwrap();
                if let Some(u) = carried.get(&name) {
                    let mut t = String::new();
                    type_def(u, &mut t);
                    entries.push((0, name, t));
                    continue;
                }
                let mut g = (*it).clone();
                let kept = match it {
                    syn::Item::Struct(s) => derives(&s.attrs, false),
                    syn::Item::Enum(e) => derives(&e.attrs, false),
                    _ => unreachable!(),
                }
                .unwrap_or_default();
                let attrs: Vec<syn::Attribute> = if kept.is_empty() {
                    vec![]
                } else {
                    let ids: Vec<syn::Ident> = kept.iter().map(|d| syn::Ident::new(d, proc_macro2::Span::call_site())).collect();
                    vec![syn::parse_quote!(#[derive(#(#ids),*)])]
                };
                match &mut g {
                    syn::Item::Struct(s) => {
                        s.attrs = attrs;
                        s.vis = syn::Visibility::Inherited;
                        s.fields.iter_mut().for_each(|f| {
                            f.attrs.clear();
                            f.vis = syn::Visibility::Inherited
                        });
                    }
                    syn::Item::Enum(e) => {
                        e.attrs = attrs;
                        e.vis = syn::Visibility::Inherited;
                        for v in e.variants.iter_mut() {
                            v.attrs.clear();
                            v.fields.iter_mut().for_each(|f| {
                                f.attrs.clear();
                                f.vis = syn::Visibility::Inherited
                            });
                        }
                    }
                    _ => unreachable!(),
                }
                entries.push((0, name, g.to_token_stream().to_string()));
            }
            _ => {}
        }
    }
    entries.sort();
    let mut report = String::from("// rlce-rsplit report: the program's top-level signatures (untrusted)\n");
    for (_, _, text) in &entries {
        report.push_str(text.trim_end());
        report.push('\n');
    }
    for u in carried.values() {
        wire_impls(u, &mut impls);
    }
    dispatch.push_str("        _ => ::std::result::Result::Err(::std::format!(\"the program has no function {}\", __rlce_name)),\n    }\n}\n");
    dispatch.push_str(&impls);
    if report.len() > MAX_REPORT {
        return Err("the program's signatures take more than 60 KiB".into());
    }
    std::fs::write(dispatch_path, dispatch).map_err(|e| e.to_string())?;
    std::fs::write(report_path, report).map_err(|e| e.to_string())?;
    Ok(())
}

// ---------------------------------------------------------------- test side

/// Names the test mentions as a free function or value: not after `.`
/// (a method or field), not after `path::` unless the path is
/// `super::`/`crate::`/`self::`.
fn mentions(ts: TokenStream, names: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    let toks: Vec<TokenTree> = ts.into_iter().collect();
    let punct = |t: &TokenTree, c: char| matches!(t, TokenTree::Punct(p) if p.as_char() == c);
    for (i, t) in toks.iter().enumerate() {
        match t {
            TokenTree::Group(g) => mentions(g.stream(), names, out),
            TokenTree::Ident(id) => {
                let s = id.to_string();
                let s = s.strip_prefix("r#").unwrap_or(&s).to_string();
                if !names.contains(&s) {
                    continue;
                }
                if i >= 1 && punct(&toks[i - 1], '.') {
                    continue;
                }
                if i >= 2 && punct(&toks[i - 1], ':') && punct(&toks[i - 2], ':') {
                    let local = i >= 3
                        && matches!(&toks[i - 3], TokenTree::Ident(p) if ["super", "crate", "self"].contains(&p.to_string().as_str()));
                    if !local {
                        continue;
                    }
                }
                out.insert(s);
            }
            _ => {}
        }
    }
}

/// Whether the tokens hold a `#[test]` attribute anywhere (also inside
/// macro bodies: a conservative check; the harness checks again at run time).
fn has_test(ts: TokenStream) -> bool {
    let toks: Vec<TokenTree> = ts.into_iter().collect();
    for (i, t) in toks.iter().enumerate() {
        if let TokenTree::Group(g) = t {
            if g.delimiter() == proc_macro2::Delimiter::Bracket && i >= 1 && matches!(&toks[i - 1], TokenTree::Punct(p) if p.as_char() == '#') {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                let path_only = inner.iter().all(|x| matches!(x, TokenTree::Ident(_)) || matches!(x, TokenTree::Punct(p) if p.as_char() == ':'));
                if path_only && matches!(inner.last(), Some(TokenTree::Ident(id)) if id == "test") {
                    return true;
                }
            }
            if has_test(g.stream()) {
                return true;
            }
        }
    }
    false
}

fn test(report: &[u8], test_src: &str, stubs_path: &str) -> Result<(), (i32, String)> {
    let malformed = |why: &str| (1, format!("malformed report from the program build: {}", why));
    if report.len() > 64 * 1024 {
        return Err(malformed("larger than 64 KiB"));
    }
    let report = std::str::from_utf8(report).map_err(|_| malformed("not UTF-8"))?;
    let file = syn::parse_file(report).map_err(|_| malformed("not Rust items"))?;
    if !file.attrs.is_empty() || file.shebang.is_some() {
        return Err(malformed("attributes"));
    }
    let mut fns: Vec<&syn::ItemFn> = Vec::new();
    let mut type_items: Vec<&syn::Item> = Vec::new();
    let mut seen_fn = BTreeSet::new();
    for it in &file.items {
        match it {
            syn::Item::Fn(f) => {
                if !f.attrs.is_empty() || !matches!(f.vis, syn::Visibility::Inherited) || !f.block.stmts.is_empty() {
                    return Err(malformed("a function with attributes, visibility or a body"));
                }
                if !seen_fn.insert(f.sig.ident.to_string()) {
                    return Err(malformed("a function reported twice"));
                }
                fns.push(f)
            }
            syn::Item::Struct(_) | syn::Item::Enum(_) => type_items.push(it),
            _ => return Err(malformed("an item that is not a fn, struct or enum")),
        }
    }
    let carried = carried_types(&type_items, true);
    let names: BTreeMap<String, usize> = carried.iter().map(|(n, u)| (n.clone(), u.params.len())).collect();
    let mut ok: Vec<FnSig> = Vec::new();
    let mut refused: BTreeMap<String, String> = BTreeMap::new();
    for f in &fns {
        let name = f.sig.ident.to_string();
        if !name_ok(&name) {
            continue; // never a stub: it would shadow a standard name (see RESERVED)
        }
        match check_fn(&f.sig, &names) {
            Ok(s) => ok.push(s),
            Err(why) => {
                refused.insert(name, why);
            }
        }
    }

    if let Ok(ts) = TokenStream::from_str(test_src) {
        if !has_test(ts.clone()) {
            return Err((114, "the test defines no #[test] function".into()));
        }
        let want: BTreeSet<String> = refused.keys().cloned().collect();
        let mut used = BTreeSet::new();
        mentions(ts, &want, &mut used);
        if let Some(n) = used.iter().next() {
            return Err((113, format!("unsupported: function {}: type {}", n, refused[n])));
        }
    }

    let mut out = String::from("// generated by rlce-rsplit from the program's report: stubs calling the program over fd 5\n");
    out.push_str(&prelude(TokenStream::from_str(test_src).ok()));
    // only the types the carried functions use (and what those use)
    let mut used_types = BTreeSet::new();
    for f in &ok {
        f.params.iter().for_each(|t| refs(t, &mut used_types));
        refs(&f.ret, &mut used_types);
    }
    loop {
        let mut more = used_types.clone();
        for n in &used_types {
            if let Some(u) = carried.get(n) {
                let all: Vec<&Ty> = match &u.body {
                    Body::Struct(s) => shape_tys(s),
                    Body::Enum(vs) => vs.iter().flat_map(|(_, s)| shape_tys(s)).collect(),
                };
                all.into_iter().for_each(|t| refs(t, &mut more));
            }
        }
        if more.len() == used_types.len() {
            break;
        }
        used_types = more;
    }
    for n in &used_types {
        let u = &carried[n];
        type_def(u, &mut out);
        wire_impls(u, &mut out);
    }
    for f in &ok {
        stub(f, &mut out);
    }
    std::fs::write(stubs_path, out).map_err(|e| (1, e.to_string()))?;
    Ok(())
}

fn idents(ts: TokenStream, out: &mut BTreeSet<String>) {
    for t in ts {
        match t {
            TokenTree::Group(g) => idents(g.stream(), out),
            TokenTree::Ident(i) => {
                out.insert(i.to_string());
            }
            _ => {}
        }
    }
}

/// What HumanEval-X's declaration imports, so the test's `use super::*`
/// finds the same names as when it sat beside the program. A glob import: a
/// stub of the same name (a program function) wins without a conflict. The
/// rand, regex and md5 crates only when the test names them (loading their
/// metadata costs rustc time).
fn prelude(test: Option<TokenStream>) -> String {
    let mut ids = BTreeSet::new();
    let all = match test {
        Some(ts) => {
            idents(ts, &mut ids);
            false
        }
        None => true,
    };
    let has = |names: &[&str]| all || names.iter().any(|n| ids.contains(*n));
    let mut p = String::from(
        "#[allow(unused_imports)]\nuse rlce_prelude::*;\n#[allow(unused_imports)]\nmod rlce_prelude {\n    pub use std::any::{Any, TypeId};\n    pub use std::{ascii::AsciiExt, cmp::{self, max}, collections::{HashMap, HashSet}, mem::replace, ops::Index, slice::Iter};\n",
    );
    if has(&["rand", "Rng"]) {
        p.push_str("    pub use rand::Rng;\n");
    }
    if has(&["regex", "Regex"]) {
        p.push_str("    pub use regex::Regex;\n");
    }
    if has(&["md5"]) {
        p.push_str("    pub use md5;\n");
    }
    p.push_str("}\n");
    p
}

fn shape_tys(s: &Shape) -> Vec<&Ty> {
    match s {
        Shape::Unit => vec![],
        Shape::Tuple(v) => v.iter().collect(),
        Shape::Named(v) => v.iter().map(|(_, t)| t).collect(),
    }
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let r = match (a.get(1).map(|s| s.as_str()), a.len()) {
        (Some("program"), 5) => match std::fs::read(&a[2]) {
            Ok(b) => match String::from_utf8(b) {
                Ok(src) => program(&src, &a[3], &a[4]).map_err(|e| (1, e)),
                Err(_) => Err((1, "the program is not UTF-8".into())),
            },
            Err(e) => Err((1, e.to_string())),
        },
        (Some("test"), 5) => {
            let report = std::fs::read(&a[2]).map_err(|e| (1, e.to_string()));
            let src = std::fs::read(&a[3]).map_err(|e| (1, e.to_string()));
            match (report, src) {
                (Ok(r), Ok(s)) => test(&r, &String::from_utf8_lossy(&s), &a[4]),
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        }
        _ => Err((2, "usage: rlce-rsplit program PROGRAM.rs DISPATCH.rs REPORT.rs | test REPORT.rs TEST.rs STUBS.rs".into())),
    };
    if let Err((code, msg)) = r {
        eprintln!("rlce: {}", msg);
        std::process::exit(code);
    }
}
