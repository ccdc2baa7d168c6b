//! The tree-walking evaluator: variables come from a JSON environment (unknown names are nil,
//! as in expr-lang without a strict environment), operators follow expr-lang's runtime, calls go
//! to the builtins, Argo's functions or sprig.

use serde_json::Value as Json;

use super::ast::{BinaryOp, Node, NodeKind, Pointer, UnaryOp};
use super::ctx::Ctx;
use super::error::{ExprError, Fail};
use super::value::Value;
use super::{argo, builtins, ops, predicates, sprig};

/// Why evaluation of a node stopped early.
pub(crate) enum Stop {
    /// A real error.
    Error(ExprError),
    /// A `?.` met nil: the enclosing optional chain is nil.
    NilChain,
}

impl From<ExprError> for Stop {
    fn from(e: ExprError) -> Self {
        Stop::Error(e)
    }
}

pub(crate) type R<T> = Result<T, Stop>;

/// Evaluates a parsed expression against `env` (a JSON object of variables).
pub(crate) fn run(node: &Node, env: &Json) -> Result<Value, ExprError> {
    let mut evaluator = Evaluator {
        env,
        vars: Vec::new(),
        frames: Vec::new(),
        accs: Vec::new(),
        ctx: Ctx::default(),
    };
    match evaluator.eval(node) {
        Ok(v) => Ok(v),
        Err(Stop::NilChain) => Ok(Value::Nil),
        Err(Stop::Error(e)) => Err(e),
    }
}

/// The state of one evaluation.
pub(crate) struct Evaluator<'e> {
    env: &'e Json,
    /// `let` bindings, innermost last.
    vars: Vec<(String, Value)>,
    /// Predicate frames: the current element and its index, innermost last.
    pub frames: Vec<(Value, usize)>,
    /// Accumulators of the `reduce` calls being evaluated, innermost last.
    pub accs: Vec<Value>,
    pub ctx: Ctx,
}

/// The result of looking a variable path up in the environment without converting it.
enum Lookup<'e> {
    Found(&'e Json),
    Missing,
    Unknown,
}

fn fail(offset: usize) -> impl Fn(Fail) -> Stop {
    move |f| Stop::Error(f.at(offset))
}

impl<'e> Evaluator<'e> {
    /// Evaluates one node.
    pub fn eval(&mut self, node: &Node) -> R<Value> {
        let pos = node.pos;
        match &node.kind {
            NodeKind::Nil => Ok(Value::Nil),
            NodeKind::Bool(b) => Ok(Value::Bool(*b)),
            NodeKind::Int(i) => Ok(Value::Int(*i)),
            NodeKind::Float(f) => Ok(Value::Float(*f)),
            NodeKind::Str(s) => Ok(Value::str(s.as_str())),
            NodeKind::Ident(name) => self.ident(name, pos),
            NodeKind::Pointer(p) => self.pointer(*p, pos),
            NodeKind::Unary(op, operand) => {
                let v = self.eval(operand)?;
                unary(*op, &v).map_err(fail(pos))
            }
            NodeKind::Binary(op, a, b) => self.binary(*op, a, b, pos),
            NodeKind::Member {
                base,
                prop,
                optional,
            } => self.member(node, base, prop, *optional),
            NodeKind::Slice { base, from, to } => {
                let b = self.eval(base)?;
                let from = from.as_deref().map(|n| self.eval(n)).transpose()?;
                let to = to.as_deref().map(|n| self.eval(n)).transpose()?;
                ops::slice(&b, from, to).map_err(fail(pos))
            }
            NodeKind::Chain(inner) => match self.eval(inner) {
                Err(Stop::NilChain) => Ok(Value::Nil),
                other => other,
            },
            NodeKind::Call { name, args } => {
                let args = self.eval_all(args)?;
                self.call(name, &args, pos)
            }
            NodeKind::Method { member, args } => self.method(member, args, pos),
            NodeKind::Predicate { pred, args } => predicates::eval(self, *pred, args, pos),
            NodeKind::Closure(body) => self.eval(body),
            NodeKind::Array(items) => {
                self.ctx.charge(items.len()).map_err(fail(pos))?;
                Ok(Value::array(self.eval_all(items)?))
            }
            NodeKind::Map(pairs) => self.map_literal(pairs, pos),
            NodeKind::Conditional(..) | NodeKind::Let { .. } | NodeKind::Sequence(_) => {
                self.control(node)
            }
        }
    }

    /// `c ? a : b`, `let x = v; body` and `a; b`.
    fn control(&mut self, node: &Node) -> R<Value> {
        match &node.kind {
            NodeKind::Conditional(cond, then, otherwise) => match self.eval(cond)? {
                Value::Bool(true) => self.eval(then),
                Value::Bool(false) => self.eval(otherwise),
                other => Err(fail(node.pos)(Fail::Msg(format!(
                    "the condition must be a bool, not {}",
                    other.type_name()
                )))),
            },
            NodeKind::Let { name, value, body } => {
                let v = self.eval(value)?;
                self.vars.push((name.clone(), v));
                let result = self.eval(body);
                self.vars.pop();
                result
            }
            NodeKind::Sequence(nodes) => {
                let mut last = Value::Nil;
                for n in nodes {
                    last = self.eval(n)?;
                }
                Ok(last)
            }
            _ => Ok(Value::Nil),
        }
    }

    fn eval_all(&mut self, nodes: &[Node]) -> R<Vec<Value>> {
        nodes.iter().map(|n| self.eval(n)).collect()
    }

    fn is_var(&self, name: &str) -> bool {
        self.vars.iter().any(|(n, _)| n == name)
    }

    /// Converts an environment value, counting the work.
    fn convert(&mut self, json: &Json, offset: usize) -> R<Value> {
        let value = Value::from_json(json).map_err(|m| Stop::Error(Fail::Limit(m).at(offset)))?;
        self.ctx.work(value.cost()).map_err(fail(offset))?;
        Ok(value)
    }

    fn ident(&mut self, name: &str, pos: usize) -> R<Value> {
        if let Some((_, v)) = self.vars.iter().rev().find(|(n, _)| n == name) {
            return Ok(v.clone());
        }
        let env = self.env;
        if name == "$env" {
            return self.convert(env, pos);
        }
        match env.get(name) {
            Some(json) => self.convert(json, pos),
            None => Ok(Value::Nil),
        }
    }

    fn pointer(&self, pointer: Pointer, pos: usize) -> R<Value> {
        if pointer == Pointer::Acc {
            return self
                .accs
                .last()
                .cloned()
                .ok_or_else(|| fail(pos)(Fail::Msg("#acc is only defined inside reduce".into())));
        }
        let Some((item, index)) = self.frames.last() else {
            return Err(fail(pos)(Fail::Msg(
                "# is only defined inside a predicate".into(),
            )));
        };
        Ok(match pointer {
            Pointer::Item => item.clone(),
            Pointer::Index => Value::Int(i64::try_from(*index).unwrap_or(i64::MAX)),
            Pointer::Acc => Value::Nil,
        })
    }

    /// Finds a variable path (`a.b[0].c` with literal keys) in the environment without
    /// converting the values along the way.
    fn lookup(&self, node: &Node) -> Lookup<'e> {
        match &node.kind {
            NodeKind::Ident(name) if name != "$env" && !self.is_var(name) => {
                self.env.get(name).map_or(Lookup::Missing, Lookup::Found)
            }
            NodeKind::Member {
                base,
                prop,
                optional: false,
            } => {
                let Lookup::Found(parent) = self.lookup(base) else {
                    return Lookup::Unknown;
                };
                match (parent, &prop.kind) {
                    (Json::Object(m), NodeKind::Str(key)) => {
                        m.get(key).map_or(Lookup::Missing, Lookup::Found)
                    }
                    (Json::Array(items), NodeKind::Int(i)) => {
                        let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                        let i = if *i < 0 { i.saturating_add(len) } else { *i };
                        usize::try_from(i)
                            .ok()
                            .and_then(|i| items.get(i))
                            .map_or(Lookup::Unknown, Lookup::Found)
                    }
                    _ => Lookup::Unknown,
                }
            }
            _ => Lookup::Unknown,
        }
    }

    fn member(&mut self, node: &Node, base: &Node, prop: &Node, optional: bool) -> R<Value> {
        match self.lookup(node) {
            Lookup::Found(json) => return self.convert(json, node.pos),
            Lookup::Missing => return Ok(Value::Nil),
            Lookup::Unknown => {}
        }
        let b = self.eval(base)?;
        if optional && b.is_nil() {
            return Err(Stop::NilChain);
        }
        let p = self.eval(prop)?;
        if b.is_nil() {
            let what = super::format::sprint(&p);
            return Err(fail(node.pos)(Fail::Msg(format!(
                "cannot fetch {what} from nil"
            ))));
        }
        ops::fetch(&b, &p).map_err(fail(node.pos))
    }

    fn binary(&mut self, op: BinaryOp, a: &Node, b: &Node, pos: usize) -> R<Value> {
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let left = truth(op, &self.eval(a)?).map_err(fail(pos))?;
                if left == (op == BinaryOp::Or) {
                    return Ok(Value::Bool(left));
                }
                let right = truth(op, &self.eval(b)?).map_err(fail(pos))?;
                return Ok(Value::Bool(right));
            }
            BinaryOp::Coalesce => {
                let left = self.eval(a)?;
                return if left.is_nil() {
                    self.eval(b)
                } else {
                    Ok(left)
                };
            }
            _ => {}
        }
        let l = self.eval(a)?;
        let r = self.eval(b)?;
        let scanned = l.shallow_size() + r.shallow_size();
        self.ctx.work(scanned).map_err(fail(pos))?;
        let result = match op {
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Gt
            | BinaryOp::Le
            | BinaryOp::Ge => ops::compare(op, &l, &r).map(Value::Bool),
            BinaryOp::In => ops::contains_element(&l, &r).map(Value::Bool),
            BinaryOp::Matches | BinaryOp::Contains | BinaryOp::StartsWith | BinaryOp::EndsWith => {
                ops::string_test(op, &l, &r, &mut self.ctx).map(Value::Bool)
            }
            BinaryOp::Range => ops::range(&l, &r, &mut self.ctx),
            _ => ops::arithmetic(op, &l, &r, &mut self.ctx),
        };
        result.map_err(fail(pos))
    }

    fn map_literal(&mut self, pairs: &[(Node, Node)], pos: usize) -> R<Value> {
        self.ctx.charge(pairs.len()).map_err(fail(pos))?;
        let mut out = std::collections::BTreeMap::new();
        for (k, v) in pairs {
            let key = match self.eval(k)? {
                Value::Str(s) => s.to_string(),
                other => {
                    let m = format!("map keys must be strings, not {}", other.type_name());
                    return Err(fail(k.pos)(Fail::Msg(m)));
                }
            };
            let value = self.eval(v)?;
            out.insert(key, value);
        }
        Ok(Value::map(out))
    }

    /// Calls a builtin or one of Argo's functions.
    pub fn call(&mut self, name: &str, args: &[Value], pos: usize) -> R<Value> {
        self.scan(args, pos)?;
        let result = builtins::call(name, args, &mut self.ctx)
            .or_else(|| argo::call(name, args))
            .unwrap_or_else(|| Err(Fail::Msg(format!("unknown function {name}"))));
        self.charged(result, pos)
    }

    /// Counts the work of looking at a function's arguments.
    fn scan(&mut self, args: &[Value], pos: usize) -> R<()> {
        let units = args.iter().map(Value::shallow_size).sum();
        self.ctx.work(units).map_err(fail(pos))
    }

    fn charged(&mut self, result: Result<Value, Fail>, pos: usize) -> R<Value> {
        let value = result.map_err(fail(pos))?;
        if matches!(value, Value::Str(_) | Value::Array(_) | Value::Map(_)) {
            self.ctx.charge(value.cost()).map_err(fail(pos))?;
        }
        Ok(value)
    }

    fn method(&mut self, member: &Node, args: &[Node], pos: usize) -> R<Value> {
        if let NodeKind::Member { base, prop, .. } = &member.kind
            && let (NodeKind::Ident(lib), NodeKind::Str(name)) = (&base.kind, &prop.kind)
            && lib == "sprig"
            && !self.is_var(lib)
        {
            let args = self.eval_all(args)?;
            self.scan(&args, pos)?;
            let result = sprig::call(name, &args, &mut self.ctx).unwrap_or_else(|| {
                let hint = sprig::suggest(name)
                    .map(|s| format!(" (did you mean sprig.{s}?)"))
                    .unwrap_or_default();
                Err(Fail::Msg(format!("unknown function sprig.{name}{hint}")))
            });
            return self.charged(result, pos);
        }
        let callee = self.eval(member)?;
        let message = match callee {
            Value::Nil => "invalid operation: cannot call nil".to_owned(),
            other => format!("invalid operation: cannot call a {}", other.type_name()),
        };
        Err(fail(pos)(Fail::Msg(message)))
    }
}

fn truth(op: BinaryOp, v: &Value) -> Result<bool, Fail> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => Err(Fail::Msg(format!(
            "invalid operation: {} {} (the operands must be bools)",
            if op == BinaryOp::And { "and" } else { "or" },
            other.type_name()
        ))),
    }
}

fn unary(op: UnaryOp, v: &Value) -> Result<Value, Fail> {
    match (op, v) {
        (UnaryOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
        (UnaryOp::Neg, Value::Int(i)) => Ok(Value::Int(i.wrapping_neg())),
        (UnaryOp::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
        (UnaryOp::Plus, Value::Int(_) | Value::Float(_)) => Ok(v.clone()),
        (op, other) => {
            let symbol = match op {
                UnaryOp::Not => "not",
                UnaryOp::Neg => "-",
                UnaryOp::Plus => "+",
            };
            Err(format!("invalid operation: {symbol} {}", other.type_name()).into())
        }
    }
}
