//! The syntax tree of an expr-lang expression.

/// A node of the tree, with the character offset of the token it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub pos: usize,
    /// 1 for a leaf, 1 + the tallest child otherwise; the evaluator recurses this deep.
    pub height: usize,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnaryOp {
    Not,
    Neg,
    Plus,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    In,
    Matches,
    Contains,
    StartsWith,
    EndsWith,
    Range,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Coalesce,
}

impl BinaryOp {
    /// The operator for its source text, if it is a binary operator.
    pub fn from_token(s: &str) -> Option<BinaryOp> {
        use BinaryOp::*;
        Some(match s {
            "or" | "||" => Or,
            "and" | "&&" => And,
            "==" => Eq,
            "!=" => Ne,
            "<" => Lt,
            ">" => Gt,
            "<=" => Le,
            ">=" => Ge,
            "in" => In,
            "matches" => Matches,
            "contains" => Contains,
            "startsWith" => StartsWith,
            "endsWith" => EndsWith,
            ".." => Range,
            "+" => Add,
            "-" => Sub,
            "*" => Mul,
            "/" => Div,
            "%" => Mod,
            "**" | "^" => Pow,
            "??" => Coalesce,
            _ => return None,
        })
    }
}

/// The builtins whose second argument is a predicate evaluated per element (`#`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pred {
    All,
    None,
    Any,
    One,
    Filter,
    Map,
    Count,
    Sum,
    Find,
    FindIndex,
    FindLast,
    FindLastIndex,
    GroupBy,
    SortBy,
    Reduce,
}

/// How a predicate builtin's arguments are parsed: a plain expression or a predicate,
/// and whether the argument may be left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgSpec {
    Expr,
    Predicate,
    OptionalPredicate,
    OptionalExpr,
}

impl Pred {
    /// The predicate builtin called `name`, if any.
    pub fn from_name(name: &str) -> Option<Pred> {
        use Pred::*;
        Some(match name {
            "all" => All,
            "none" => None,
            "any" => Any,
            "one" => One,
            "filter" => Filter,
            "map" => Map,
            "count" => Count,
            "sum" => Sum,
            "find" => Find,
            "findIndex" => FindIndex,
            "findLast" => FindLast,
            "findLastIndex" => FindLastIndex,
            "groupBy" => GroupBy,
            "sortBy" => SortBy,
            "reduce" => Reduce,
            _ => return Option::None,
        })
    }

    /// The argument list expr-lang's parser expects.
    pub fn args(self) -> &'static [ArgSpec] {
        use ArgSpec::*;
        match self {
            Pred::Count | Pred::Sum => &[Expr, OptionalPredicate],
            Pred::SortBy | Pred::Reduce => &[Expr, Predicate, OptionalExpr],
            _ => &[Expr, Predicate],
        }
    }
}

/// What a predicate pointer refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pointer {
    /// `#` (or `.field`): the current element.
    Item,
    /// `#index`: the current element's index.
    Index,
    /// `#acc`: the accumulator of `reduce`.
    Acc,
}

/// The kinds of nodes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Ident(String),
    Pointer(Pointer),
    Unary(UnaryOp, Box<Node>),
    Binary(BinaryOp, Box<Node>, Box<Node>),
    /// `base.prop`, `base[prop]`, `base?.prop`.
    Member {
        base: Box<Node>,
        prop: Box<Node>,
        optional: bool,
    },
    /// `base[from:to]`.
    Slice {
        base: Box<Node>,
        from: Option<Box<Node>>,
        to: Option<Box<Node>>,
    },
    /// The extent of an optional chain: a `?.` on nil inside makes the whole chain nil.
    Chain(Box<Node>),
    /// `name(args)`: a builtin or one of Argo's functions.
    Call {
        name: String,
        args: Vec<Node>,
    },
    /// `member(args)`, e.g. `sprig.upper(x)`; `member` is a [`NodeKind::Member`].
    Method {
        member: Box<Node>,
        args: Vec<Node>,
    },
    /// `filter(xs, pred)` and the other predicate builtins.
    Predicate {
        pred: Pred,
        args: Vec<Node>,
    },
    /// The body of a predicate argument.
    Closure(Box<Node>),
    Array(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Conditional(Box<Node>, Box<Node>, Box<Node>),
    Let {
        name: String,
        value: Box<Node>,
        body: Box<Node>,
    },
    Sequence(Vec<Node>),
}

impl NodeKind {
    /// The direct children, for computing heights and walking the tree.
    pub fn children(&self) -> Vec<&Node> {
        use NodeKind::*;
        match self {
            Nil | Bool(_) | Int(_) | Float(_) | Str(_) | Ident(_) | Pointer(_) => Vec::new(),
            Unary(_, n) | Chain(n) | Closure(n) => vec![n],
            Binary(_, a, b) => vec![a, b],
            Member { base, prop, .. } => vec![base, prop],
            Slice { base, from, to } => {
                let mut v: Vec<&Node> = vec![base];
                v.extend(from.as_deref());
                v.extend(to.as_deref());
                v
            }
            Call { args, .. } | Predicate { args, .. } | Array(args) | Sequence(args) => {
                args.iter().collect()
            }
            Method { member, args } => std::iter::once(&**member).chain(args.iter()).collect(),
            Map(pairs) => pairs.iter().flat_map(|(k, v)| [k, v]).collect(),
            Conditional(a, b, c) => vec![a, b, c],
            Let { value, body, .. } => vec![value, body],
        }
    }
}

impl Node {
    /// A node whose height is computed from its children.
    pub fn new(kind: NodeKind, pos: usize) -> Node {
        let height = 1 + kind.children().iter().map(|c| c.height).max().unwrap_or(0);
        Node { kind, pos, height }
    }
}

/// Binding power and associativity of a binary operator (expr-lang's table).
pub(crate) fn binary_precedence(op: &str) -> Option<(u16, bool)> {
    let left = true;
    Some(match op {
        "|" => (0, left),
        "or" | "||" => (10, left),
        "and" | "&&" => (15, left),
        "==" | "!=" | "<" | ">" | ">=" | "<=" | "in" | "matches" | "contains" | "startsWith"
        | "endsWith" => (20, left),
        ".." => (25, left),
        "+" | "-" => (30, left),
        "*" | "/" | "%" => (60, left),
        "**" | "^" => (100, false),
        "??" => (500, left),
        _ => return None,
    })
}

/// A unary operator and the binding power of its operand.
pub(crate) fn unary(op: &str) -> Option<(UnaryOp, u16)> {
    Some(match op {
        "not" | "!" => (UnaryOp::Not, 50),
        "-" => (UnaryOp::Neg, 90),
        "+" => (UnaryOp::Plus, 90),
        _ => return None,
    })
}

/// The comparisons that chain (`a < b < c`).
pub(crate) fn is_comparison(op: &str) -> bool {
    matches!(op, "<" | ">" | ">=" | "<=")
}

/// The operators `not` may precede (`not in`).
pub(crate) const NEGATABLE: [&str; 5] = ["contains", "matches", "startsWith", "endsWith", "in"];
