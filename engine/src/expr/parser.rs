//! The expr-lang parser: tokens to a [`Node`] tree, following expr-lang's precedence climbing
//! (operator table, chained comparisons, `not in`, pipes, `??` mixing rule, optional chains,
//! predicates with `#`), with limits on nesting and size so no input can exhaust the stack.

use super::ast::{
    ArgSpec, BinaryOp, NEGATABLE, Node, NodeKind, Pointer, Pred, UnaryOp, binary_precedence,
    is_comparison, unary,
};
use super::error::{ExprError, Position};
use super::lexer::{Kind, Token, is_valid_identifier, lex, number_literal};

/// How deeply expressions may nest (tree height and parser recursion).
pub(crate) const MAX_DEPTH: usize = 100;
/// How many nodes an expression may have (expr-lang's default).
pub(crate) const MAX_NODES: usize = 10_000;

type PResult<T> = Result<T, ExprError>;

/// Parses `src` into a tree.
pub(crate) fn parse(src: &str) -> PResult<Node> {
    let tokens = lex(src)?;
    let mut p = Parser {
        toks: &tokens,
        i: 0,
        predicate_depth: 0,
        nesting: 0,
        nodes: 0,
    };
    let node = p.parse_sequence()?;
    if p.cur().kind != Kind::Eof {
        return Err(p.unexpected());
    }
    Ok(node)
}

struct Parser<'t> {
    toks: &'t [Token],
    i: usize,
    predicate_depth: usize,
    nesting: usize,
    nodes: usize,
}

impl Parser<'_> {
    fn cur(&self) -> &Token {
        // The token list always ends with Eof and `i` never moves past it.
        &self.toks[self.i.min(self.toks.len() - 1)]
    }

    fn advance(&mut self) {
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
    }

    fn cur_is(&self, kind: Kind, value: &str) -> bool {
        self.cur().is(kind, value)
    }

    fn unexpected(&self) -> ExprError {
        let t = self.cur();
        if t.kind == Kind::Eof {
            ExprError::syntax("unexpected end of expression", t.pos)
        } else {
            ExprError::syntax(format!("unexpected token {}", t.describe()), t.pos)
        }
    }

    fn expect(&mut self, kind: Kind, value: &str) -> PResult<()> {
        if self.cur_is(kind, value) {
            self.advance();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn node(&mut self, kind: NodeKind, pos: usize) -> PResult<Node> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(ExprError::Limit {
                message: format!("expression exceeds the maximum of {MAX_NODES} nodes"),
                position: Position::at(pos),
            });
        }
        let node = Node::new(kind, pos);
        if node.height > MAX_DEPTH {
            return Err(ExprError::TooDeep {
                position: Position::at(pos),
                limit: MAX_DEPTH,
            });
        }
        Ok(node)
    }

    /// Counts a subtree the parser is about to duplicate towards the node limit.
    fn duplicate(&mut self, node: &Node) -> PResult<Node> {
        fn size(n: &Node) -> usize {
            1 + n.kind.children().into_iter().map(size).sum::<usize>()
        }
        self.nodes = self.nodes.saturating_add(size(node));
        if self.nodes > MAX_NODES {
            return Err(ExprError::Limit {
                message: format!("expression exceeds the maximum of {MAX_NODES} nodes"),
                position: Position::at(node.pos),
            });
        }
        Ok(node.clone())
    }

    fn parse_sequence(&mut self) -> PResult<Node> {
        let first = self.parse_expression(0)?;
        let pos = first.pos;
        let mut nodes = vec![first];
        while self.cur_is(Kind::Operator, ";") {
            self.advance();
            if self.cur().kind == Kind::Eof {
                break;
            }
            nodes.push(self.parse_expression(0)?);
        }
        if nodes.len() == 1 {
            return Ok(nodes.remove(0));
        }
        self.node(NodeKind::Sequence(nodes), pos)
    }

    fn parse_expression(&mut self, precedence: u16) -> PResult<Node> {
        self.nesting += 1;
        if self.nesting > MAX_DEPTH {
            return Err(ExprError::TooDeep {
                position: Position::at(self.cur().pos),
                limit: MAX_DEPTH,
            });
        }
        let result = self.parse_expression_inner(precedence);
        self.nesting -= 1;
        result
    }

    fn parse_expression_inner(&mut self, precedence: u16) -> PResult<Node> {
        if precedence == 0 && self.cur_is(Kind::Operator, "let") {
            return self.parse_let();
        }
        if precedence == 0 && self.cur_is(Kind::Operator, "if") {
            return self.parse_if();
        }
        let mut left = self.parse_primary()?;
        let mut prev_op = String::new();
        while let Some((op_tok, negate)) = self.binary_operator(precedence)? {
            let (op_prec, left_assoc) = binary_precedence(&op_tok.value).unwrap_or((0, true));
            if op_tok.value == "|" {
                let ident = self.cur().clone();
                if ident.kind != Kind::Identifier {
                    return Err(self.unexpected());
                }
                self.advance();
                left = self.parse_call(&ident, vec![left])?;
            } else if prev_op == "??" && op_tok.value != "??" {
                return Err(ExprError::syntax(
                    format!(
                        "operator ({}) and coalesce expressions (??) cannot be mixed; wrap either in parentheses",
                        op_tok.value
                    ),
                    op_tok.pos,
                ));
            } else if is_comparison(&op_tok.value) {
                left = self.parse_comparison(left, op_tok.clone(), op_prec)?;
            } else {
                let next = if left_assoc { op_prec + 1 } else { op_prec };
                let right = self.parse_expression(next)?;
                left = self.binary(&op_tok, left, right, negate)?;
            }
            prev_op = op_tok.value;
        }
        if precedence == 0 {
            left = self.parse_conditional(left)?;
        }
        Ok(left)
    }

    /// The binary operator at the cursor if it binds at least as tightly as `precedence`
    /// (consumed), with whether it was negated (`not in`, `not matches`, …).
    fn binary_operator(&mut self, precedence: u16) -> PResult<Option<(Token, bool)>> {
        if self.cur().kind != Kind::Operator {
            return Ok(None);
        }
        let save = self.i;
        let mut op_tok = self.cur().clone();
        let negate = op_tok.value == "not";
        if negate {
            self.advance();
            let next = self.cur().clone();
            if next.kind != Kind::Operator || !NEGATABLE.contains(&next.value.as_str()) {
                return Err(self.unexpected());
            }
            op_tok = next;
        }
        match binary_precedence(&op_tok.value) {
            Some((p, _)) if p >= precedence => {
                self.advance();
                Ok(Some((op_tok, negate)))
            }
            _ => {
                self.i = save;
                Ok(None)
            }
        }
    }

    fn binary(&mut self, op_tok: &Token, left: Node, right: Node, negate: bool) -> PResult<Node> {
        let op = BinaryOp::from_token(&op_tok.value).ok_or_else(|| self.unexpected())?;
        let node = self.node(
            NodeKind::Binary(op, Box::new(left), Box::new(right)),
            op_tok.pos,
        )?;
        if negate {
            return self.node(NodeKind::Unary(UnaryOp::Not, Box::new(node)), op_tok.pos);
        }
        Ok(node)
    }

    fn parse_let(&mut self) -> PResult<Node> {
        self.expect(Kind::Operator, "let")?;
        let name = self.cur().clone();
        self.expect(Kind::Identifier, &name.value)?;
        self.expect(Kind::Operator, "=")?;
        let value = self.parse_expression(0)?;
        self.expect(Kind::Operator, ";")?;
        let body = self.parse_sequence()?;
        let kind = NodeKind::Let {
            name: name.value,
            value: Box::new(value),
            body: Box::new(body),
        };
        self.node(kind, name.pos)
    }

    fn parse_if(&mut self) -> PResult<Node> {
        let pos = self.cur().pos;
        self.advance();
        let cond = self.parse_expression(0)?;
        self.expect(Kind::Bracket, "{")?;
        let then = self.parse_sequence()?;
        self.expect(Kind::Bracket, "}")?;
        self.expect(Kind::Operator, "else")?;
        let otherwise = if self.cur_is(Kind::Operator, "if") {
            self.parse_if()?
        } else {
            self.expect(Kind::Bracket, "{")?;
            let e = self.parse_sequence()?;
            self.expect(Kind::Bracket, "}")?;
            e
        };
        let kind = NodeKind::Conditional(Box::new(cond), Box::new(then), Box::new(otherwise));
        self.node(kind, pos)
    }

    fn parse_conditional(&mut self, mut node: Node) -> PResult<Node> {
        while self.cur_is(Kind::Operator, "?") {
            let pos = self.cur().pos;
            self.advance();
            let (then, otherwise) = if self.cur_is(Kind::Operator, ":") {
                self.advance();
                (self.duplicate(&node)?, self.parse_expression(0)?)
            } else {
                let then = self.parse_expression(0)?;
                self.expect(Kind::Operator, ":")?;
                (then, self.parse_expression(0)?)
            };
            let kind = NodeKind::Conditional(Box::new(node), Box::new(then), Box::new(otherwise));
            node = self.node(kind, pos)?;
        }
        Ok(node)
    }

    /// `a < b <= c` means `a < b && b <= c`.
    fn parse_comparison(&mut self, mut left: Node, mut tok: Token, prec: u16) -> PResult<Node> {
        let mut root: Option<Node> = None;
        loop {
            let comparator = self.parse_expression(prec + 1)?;
            let op = BinaryOp::from_token(&tok.value).ok_or_else(|| self.unexpected())?;
            let copy = self.duplicate(&comparator)?;
            let cmp = NodeKind::Binary(op, Box::new(left), Box::new(copy));
            let cmp = self.node(cmp, tok.pos)?;
            root = Some(match root {
                None => cmp,
                Some(r) => self.node(
                    NodeKind::Binary(BinaryOp::And, Box::new(r), Box::new(cmp)),
                    tok.pos,
                )?,
            });
            left = comparator;
            tok = self.cur().clone();
            if tok.kind != Kind::Operator || !is_comparison(&tok.value) {
                break;
            }
            self.advance();
        }
        root.ok_or_else(|| self.unexpected())
    }

    fn parse_primary(&mut self) -> PResult<Node> {
        let tok = self.cur().clone();
        if tok.kind == Kind::Operator
            && let Some((op, prec)) = unary(&tok.value)
        {
            self.advance();
            let operand = self.parse_expression(prec)?;
            let node = self.node(NodeKind::Unary(op, Box::new(operand)), tok.pos)?;
            return self.parse_postfix(node);
        }
        if tok.is(Kind::Bracket, "(") {
            self.advance();
            let inner = self.parse_sequence()?;
            self.expect(Kind::Bracket, ")")?;
            return self.parse_postfix(inner);
        }
        if self.predicate_depth > 0 && (tok.is(Kind::Operator, "#") || tok.is(Kind::Operator, "."))
        {
            let mut pointer = Pointer::Item;
            if tok.value == "#" {
                self.advance();
                if self.cur().kind == Kind::Identifier {
                    let name = self.cur().clone();
                    pointer = match name.value.as_str() {
                        "index" => Pointer::Index,
                        "acc" => Pointer::Acc,
                        _ => {
                            return Err(ExprError::syntax(
                                format!("unknown pointer #{}", name.value),
                                name.pos,
                            ));
                        }
                    };
                    self.advance();
                }
            }
            let node = self.node(NodeKind::Pointer(pointer), tok.pos)?;
            return self.parse_postfix(node);
        }
        if tok.is(Kind::Operator, "::") {
            self.advance();
            let name = self.cur().clone();
            if name.kind != Kind::Identifier {
                return Err(self.unexpected());
            }
            self.advance();
            let call = self.parse_call(&name, Vec::new())?;
            return self.parse_postfix(call);
        }
        self.parse_secondary()
    }

    fn parse_secondary(&mut self) -> PResult<Node> {
        let tok = self.cur().clone();
        let node = match tok.kind {
            Kind::Identifier => {
                self.advance();
                match tok.value.as_str() {
                    "true" => return self.node(NodeKind::Bool(true), tok.pos),
                    "false" => return self.node(NodeKind::Bool(false), tok.pos),
                    "nil" => return self.node(NodeKind::Nil, tok.pos),
                    _ if self.cur_is(Kind::Bracket, "(") => self.parse_call(&tok, Vec::new())?,
                    _ => self.node(NodeKind::Ident(tok.value.clone()), tok.pos)?,
                }
            }
            Kind::Number => {
                self.advance();
                let kind = number_literal(&tok.value).map_err(|m| ExprError::syntax(m, tok.pos))?;
                return self.node(kind, tok.pos);
            }
            Kind::Str => {
                self.advance();
                self.node(NodeKind::Str(tok.value.clone()), tok.pos)?
            }
            Kind::Bracket if tok.value == "[" => self.parse_array()?,
            Kind::Bracket if tok.value == "{" => self.parse_map()?,
            _ => return Err(self.unexpected()),
        };
        self.parse_postfix(node)
    }

    fn parse_call(&mut self, name: &Token, mut args: Vec<Node>) -> PResult<Node> {
        let Some(pred) = Pred::from_name(&name.value) else {
            let args = self.parse_arguments(args)?;
            let kind = NodeKind::Call {
                name: name.value.clone(),
                args,
            };
            return self.node(kind, name.pos);
        };
        self.expect(Kind::Bracket, "(")?;
        let specs = pred.args().get(args.len()..).unwrap_or_default();
        for (i, spec) in specs.iter().enumerate() {
            let optional = matches!(spec, ArgSpec::OptionalExpr | ArgSpec::OptionalPredicate);
            if self.cur_is(Kind::Bracket, ")") {
                if optional {
                    break;
                }
                return Err(ExprError::syntax(
                    format!("{} expects at least {} arguments", name.value, specs.len()),
                    self.cur().pos,
                ));
            }
            if i > 0 {
                self.expect(Kind::Operator, ",")?;
            }
            let arg = match spec {
                ArgSpec::Expr | ArgSpec::OptionalExpr => self.parse_expression(0)?,
                ArgSpec::Predicate | ArgSpec::OptionalPredicate => self.parse_predicate()?,
            };
            args.push(arg);
        }
        if self.cur_is(Kind::Operator, ",") {
            self.advance();
        }
        self.expect(Kind::Bracket, ")")?;
        self.node(NodeKind::Predicate { pred, args }, name.pos)
    }

    fn parse_arguments(&mut self, mut args: Vec<Node>) -> PResult<Vec<Node>> {
        let offset = args.len();
        self.expect(Kind::Bracket, "(")?;
        while !self.cur_is(Kind::Bracket, ")") {
            if args.len() > offset {
                self.expect(Kind::Operator, ",")?;
            }
            if self.cur_is(Kind::Bracket, ")") {
                break;
            }
            args.push(self.parse_expression(0)?);
        }
        self.expect(Kind::Bracket, ")")?;
        Ok(args)
    }

    fn parse_predicate(&mut self) -> PResult<Node> {
        let pos = self.cur().pos;
        let braces = self.cur_is(Kind::Bracket, "{");
        if braces {
            self.advance();
        }
        self.predicate_depth += 1;
        let body = if braces {
            self.parse_sequence()
        } else {
            self.parse_expression(0)
        };
        self.predicate_depth -= 1;
        let body = body?;
        if braces {
            self.expect(Kind::Bracket, "}")?;
        } else if self.cur_is(Kind::Operator, ";") {
            return Err(ExprError::syntax(
                "wrap predicate with brackets { and }",
                self.cur().pos,
            ));
        }
        self.node(NodeKind::Closure(Box::new(body)), pos)
    }

    fn parse_array(&mut self) -> PResult<Node> {
        let pos = self.cur().pos;
        self.expect(Kind::Bracket, "[")?;
        let mut items = Vec::new();
        while !self.cur_is(Kind::Bracket, "]") {
            if !items.is_empty() {
                self.expect(Kind::Operator, ",")?;
                if self.cur_is(Kind::Bracket, "]") {
                    break;
                }
            }
            items.push(self.parse_expression(0)?);
        }
        self.expect(Kind::Bracket, "]")?;
        self.node(NodeKind::Array(items), pos)
    }

    fn parse_map(&mut self) -> PResult<Node> {
        let pos = self.cur().pos;
        self.expect(Kind::Bracket, "{")?;
        let mut pairs = Vec::new();
        while !self.cur_is(Kind::Bracket, "}") {
            if !pairs.is_empty() {
                self.expect(Kind::Operator, ",")?;
                if self.cur_is(Kind::Bracket, "}") {
                    break;
                }
            }
            let tok = self.cur().clone();
            let key = match tok.kind {
                Kind::Number | Kind::Str | Kind::Identifier => {
                    self.advance();
                    self.node(NodeKind::Str(tok.value.clone()), tok.pos)?
                }
                Kind::Bracket if tok.value == "(" => self.parse_expression(0)?,
                _ => {
                    return Err(ExprError::syntax(
                        format!(
                            "a map key must be a quoted string, a number, an identifier, or an expression in parentheses (unexpected token {})",
                            tok.describe()
                        ),
                        tok.pos,
                    ));
                }
            };
            self.expect(Kind::Operator, ":")?;
            let value = self.parse_expression(0)?;
            pairs.push((key, value));
        }
        self.expect(Kind::Bracket, "}")?;
        self.node(NodeKind::Map(pairs), pos)
    }

    fn parse_postfix(&mut self, mut node: Node) -> PResult<Node> {
        loop {
            let tok = self.cur().clone();
            let optional = tok.is(Kind::Operator, "?.");
            if tok.is(Kind::Operator, ".") || optional {
                self.advance();
                if optional && self.cur_is(Kind::Bracket, "[") {
                    node = self.parse_index(node, true)?;
                    continue;
                }
                node = self.parse_property(node, optional)?;
            } else if tok.is(Kind::Bracket, "[") {
                node = self.parse_index(node, false)?;
            } else {
                return Ok(node);
            }
        }
    }

    fn parse_property(&mut self, node: Node, optional: bool) -> PResult<Node> {
        let prop_tok = self.cur().clone();
        let valid = prop_tok.kind == Kind::Identifier
            || (prop_tok.kind == Kind::Operator && is_valid_identifier(&prop_tok.value));
        if !valid {
            return Err(ExprError::syntax("expected name", prop_tok.pos));
        }
        self.advance();
        let prop = self.node(NodeKind::Str(prop_tok.value.clone()), prop_tok.pos)?;
        let (base, in_chain) = match node.kind {
            NodeKind::Chain(inner) => (*inner, true),
            _ => (node, false),
        };
        let member = NodeKind::Member {
            base: Box::new(base),
            prop: Box::new(prop),
            optional,
        };
        let member = self.node(member, prop_tok.pos)?;
        let mut out = if self.cur_is(Kind::Bracket, "(") {
            let args = self.parse_arguments(Vec::new())?;
            let kind = NodeKind::Method {
                member: Box::new(member),
                args,
            };
            self.node(kind, prop_tok.pos)?
        } else {
            member
        };
        if in_chain || optional {
            out = self.node(NodeKind::Chain(Box::new(out)), prop_tok.pos)?;
        }
        Ok(out)
    }

    fn parse_index(&mut self, node: Node, optional: bool) -> PResult<Node> {
        let pos = self.cur().pos;
        self.expect(Kind::Bracket, "[")?;
        let from = if self.cur_is(Kind::Operator, ":") {
            None
        } else {
            Some(self.parse_expression(0)?)
        };
        if self.cur_is(Kind::Operator, ":") {
            self.advance();
            let to = if self.cur_is(Kind::Bracket, "]") {
                None
            } else {
                Some(Box::new(self.parse_expression(0)?))
            };
            self.expect(Kind::Bracket, "]")?;
            let kind = NodeKind::Slice {
                base: Box::new(node),
                from: from.map(Box::new),
                to,
            };
            return self.node(kind, pos);
        }
        let prop = from.ok_or_else(|| self.unexpected())?;
        let member = NodeKind::Member {
            base: Box::new(node),
            prop: Box::new(prop),
            optional,
        };
        let mut out = self.node(member, pos)?;
        if optional {
            out = self.node(NodeKind::Chain(Box::new(out)), pos)?;
        }
        self.expect(Kind::Bracket, "]")?;
        Ok(out)
    }
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;
