//! The evaluator: walks the tree over one object's attribute values.
//!
//! Values are multi-valued throughout. A function that works on single values is applied to
//! every value of a multi-valued argument (Connect documents `Trim([proxyAddresses])` and
//! `IIF(InStr([proxyAddresses],"SIP:")=1,NULL,[proxyAddresses])` that way), and values read
//! from the attributes or from constants are borrowed, not copied, until a function makes a
//! new one.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};

use model::Value;

use crate::ast::{BinaryOp, Call, Keyword, Node, NodeKind};
use crate::functions::Imp;
use crate::value;
use crate::{AttributeSource, Dialect, EvalContext, EvalError, Outcome};

pub(crate) type Item<'a> = Cow<'a, Value>;

/// What evaluating a node produced.
#[derive(Clone, Debug)]
pub(crate) enum Ev<'a> {
    /// No value: an absent attribute, `NULL`, a function that had nothing to return.
    Null,
    One(Item<'a>),
    /// Several values (possibly none, as a Where that kept nothing).
    Many(Vec<Item<'a>>),
    /// The flow contributes nothing (`IgnoreThisFlow`, `IgnoreFlowIfNullOrEmpty`).
    Ignored,
}

impl<'a> Ev<'a> {
    pub fn owned(value: Value) -> Self {
        Ev::One(Cow::Owned(value))
    }

    pub fn text(text: impl Into<String>) -> Self {
        Ev::owned(Value::String(text.into()))
    }

    pub fn from_option(value: Option<Value>) -> Self {
        value.map_or(Ev::Null, Ev::owned)
    }

    pub fn from_values(values: Vec<Value>) -> Self {
        Ev::Many(values.into_iter().map(Cow::Owned).collect())
    }

    /// The first value, which is the value of a single-valued result.
    pub fn first(&self) -> Option<&Value> {
        match self {
            Ev::One(v) => Some(v),
            Ev::Many(values) => values.first().map(|v| &**v),
            Ev::Null | Ev::Ignored => None,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Value> {
        let (one, many): (Option<&Value>, &[Item<'a>]) = match self {
            Ev::One(v) => (Some(v), &[]),
            Ev::Many(values) => (None, values),
            Ev::Null | Ev::Ignored => (None, &[]),
        };
        one.into_iter().chain(many.iter().map(|v| &**v))
    }

    pub fn into_items(self) -> Vec<Item<'a>> {
        match self {
            Ev::One(v) => vec![v],
            Ev::Many(values) => values,
            Ev::Null | Ev::Ignored => Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Ev::One(_) => 1,
            Ev::Many(values) => values.len(),
            Ev::Null | Ev::Ignored => 0,
        }
    }

    /// Null, or only empty text: what IsNullOrEmpty and IgnoreFlowIfNullOrEmpty look for.
    pub fn is_null_or_empty(&self) -> bool {
        self.iter().all(value::is_empty)
    }

    pub fn into_outcome(self) -> Outcome {
        match self {
            Ev::Ignored => Outcome::Ignored,
            Ev::Null => Outcome::Values(Vec::new()),
            Ev::One(value) => Outcome::Values(vec![value.into_owned()]),
            Ev::Many(values) => Outcome::Values(values.into_iter().map(Cow::into_owned).collect()),
        }
    }
}

/// Everything one evaluation reads: the object's attributes, the context, and the
/// variables bound by Select, Where and With.
pub(crate) struct Env<'a> {
    pub input: &'a dyn AttributeSource,
    pub ctx: EvalContext<'a>,
    pub dialect: Dialect,
    variables: RefCell<Vec<(&'a str, Ev<'a>)>>,
    /// Started on first use from the seed and the object's fingerprint.
    random_state: Cell<Option<u64>>,
}

impl<'a> Env<'a> {
    pub fn new(input: &'a dyn AttributeSource, ctx: EvalContext<'a>, dialect: Dialect) -> Self {
        Env {
            input,
            ctx,
            dialect,
            variables: RefCell::new(Vec::new()),
            random_state: Cell::new(None),
        }
    }

    pub fn eval(&self, node: &'a Node) -> Result<Ev<'a>, EvalError> {
        match &node.kind {
            NodeKind::Attribute(name) => Ok(match self.input.values(name) {
                None | Some([]) => Ev::Null,
                Some([one]) => Ev::One(Cow::Borrowed(one)),
                Some(values) => Ev::Many(values.iter().map(Cow::Borrowed).collect()),
            }),
            NodeKind::Constant(value) => Ok(Ev::One(Cow::Borrowed(value))),
            NodeKind::Keyword(keyword) => Ok(match keyword {
                Keyword::True => Ev::owned(Value::Boolean(true)),
                Keyword::False => Ev::owned(Value::Boolean(false)),
                Keyword::Null | Keyword::AuthoritativeNull => Ev::Null,
                Keyword::CrLf => Ev::text("\r\n"),
                Keyword::IgnoreThisFlow => Ev::Ignored,
            }),
            NodeKind::Parameter(name) => self
                .ctx
                .parameters
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| Ev::One(Cow::Owned(Value::String(value.clone()))))
                .ok_or_else(|| {
                    EvalError::new(format!(
                        "parameter %{name}% has no value for this connector"
                    ))
                }),
            NodeKind::Variable(name) => self
                .variables
                .borrow()
                .iter()
                .rev()
                .find(|(bound, _)| bound.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.clone())
                .ok_or_else(|| EvalError::new(format!("variable ${name} is not bound here"))),
            NodeKind::Call(call) => self.call(call),
            NodeKind::Binary(binary) => {
                let lhs = self.eval(&binary.lhs)?;
                if matches!(lhs, Ev::Ignored) {
                    return Ok(Ev::Ignored);
                }
                let rhs = self.eval(&binary.rhs)?;
                if matches!(rhs, Ev::Ignored) {
                    return Ok(Ev::Ignored);
                }
                let op = binary.op;
                lift(&[lhs, rhs], |args| binary_op(op, args[0], args[1]))
                    .map_err(|message| EvalError::new(format!("`{}`: {message}", op.symbol())))
            }
        }
    }

    /// Evaluates an argument slot; an empty slot is null.
    pub fn arg(&self, slot: Option<&'a Option<Node>>) -> Result<Ev<'a>, EvalError> {
        match slot {
            Some(Some(node)) => self.eval(node),
            _ => Ok(Ev::Null),
        }
    }

    fn call(&self, call: &'a Call) -> Result<Ev<'a>, EvalError> {
        let name = call.function.name;
        match call.function.imp {
            Imp::Lazy(f) => f(self, call),
            Imp::Whole(f) => {
                let mut args = Vec::with_capacity(call.args.len());
                for slot in &call.args {
                    let ev = self.arg(Some(slot))?;
                    if matches!(ev, Ev::Ignored) {
                        return Ok(Ev::Ignored);
                    }
                    args.push(ev);
                }
                f(self, args).map_err(|message| EvalError::new(format!("{name}: {message}")))
            }
            Imp::PerValue(f) => {
                let mut args: [Ev<'a>; MAX_PER_VALUE_ARGS] = std::array::from_fn(|_| Ev::Null);
                for (slot, target) in call.args.iter().zip(args.iter_mut()) {
                    *target = self.arg(Some(slot))?;
                    if matches!(target, Ev::Ignored) {
                        return Ok(Ev::Ignored);
                    }
                }
                lift(&args[..call.args.len().min(MAX_PER_VALUE_ARGS)], |values| {
                    f(self, values)
                })
                .map_err(|message| EvalError::new(format!("{name}: {message}")))
            }
        }
    }

    /// Runs `body` with `$name` bound to `value`.
    pub fn with_variable<R>(&self, name: &'a str, value: Ev<'a>, body: impl FnOnce() -> R) -> R {
        self.variables.borrow_mut().push((name, value));
        let result = body();
        self.variables.borrow_mut().pop();
        result
    }

    /// The next number of the evaluation's random sequence (splitmix64 over the injected
    /// seed), so Guid and RandomString are reproducible in tests.
    pub fn random(&self) -> u64 {
        let previous = match self.random_state.get() {
            Some(state) => state,
            None => mix(self.ctx.seed) ^ self.input.fingerprint(),
        };
        let state = previous.wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.random_state.set(Some(state));
        mix(state)
    }

    /// A random number in `0..bound`.
    pub fn random_below(&self, bound: u64) -> u64 {
        if bound == 0 { 0 } else { self.random() % bound }
    }
}

/// splitmix64's output function: spreads every input bit over the whole word.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The most arguments a per-value function takes (Replace has 7, which is lazy anyway).
pub(crate) const MAX_PER_VALUE_ARGS: usize = 8;

/// Applies a single-value function to its arguments, once per value when an argument is
/// multi-valued. Values at the same position of several multi-valued arguments go together.
pub(crate) fn lift<'a>(
    args: &[Ev<'a>],
    f: impl Fn(&[Option<&Value>]) -> Result<Option<Value>, String>,
) -> Result<Ev<'a>, String> {
    let mut buffer: [Option<&Value>; MAX_PER_VALUE_ARGS] = [None; MAX_PER_VALUE_ARGS];
    let count = args.len().min(MAX_PER_VALUE_ARGS);
    let rows = args
        .iter()
        .filter_map(|a| {
            if let Ev::Many(values) = a {
                Some(values.len())
            } else {
                None
            }
        })
        .max();
    match rows {
        None => {
            for (slot, arg) in buffer.iter_mut().zip(args) {
                *slot = arg.first();
            }
            Ok(Ev::from_option(f(&buffer[..count])?))
        }
        Some(rows) => {
            let mut out = Vec::with_capacity(rows);
            for row in 0..rows {
                for (slot, arg) in buffer.iter_mut().zip(args) {
                    *slot = match arg {
                        Ev::Many(values) => values.get(row).map(|v| &**v),
                        other => other.first(),
                    };
                }
                if let Some(value) = f(&buffer[..count])? {
                    out.push(Cow::Owned(value));
                }
            }
            Ok(Ev::Many(out))
        }
    }
}

fn binary_op(
    op: BinaryOp,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
) -> Result<Option<Value>, String> {
    use std::cmp::Ordering::*;
    if op.is_comparison() {
        // A missing value compares like empty text, so `[Status] = ""` holds for an absent
        // attribute, as Switch's `""` key does.
        let empty = Value::String(String::new());
        let (a, b) = (lhs.unwrap_or(&empty), rhs.unwrap_or(&empty));
        let ordering = value::compare(a, b);
        let holds = match op {
            BinaryOp::Equal => ordering == Some(Equal),
            BinaryOp::NotEqual => ordering != Some(Equal),
            BinaryOp::Less => ordering == Some(Less),
            BinaryOp::LessOrEqual => matches!(ordering, Some(Less | Equal)),
            BinaryOp::Greater => ordering == Some(Greater),
            _ => matches!(ordering, Some(Greater | Equal)),
        };
        return Ok(Some(Value::Boolean(holds)));
    }
    match op {
        BinaryOp::Concat => {
            let mut out = String::new();
            for side in [lhs, rhs].into_iter().flatten() {
                out.push_str(&value::text(side));
            }
            Ok(Some(Value::String(out)))
        }
        BinaryOp::And | BinaryOp::Or => {
            let read = |v: Option<&Value>| match v {
                None => Ok(false),
                Some(v) => value::boolean(v)
                    .ok_or_else(|| format!("{:?} is not True or False", value::text(v))),
            };
            let (a, b) = (read(lhs)?, read(rhs)?);
            Ok(Some(Value::Boolean(if op == BinaryOp::And {
                a && b
            } else {
                a || b
            })))
        }
        _ => arithmetic(op, lhs, rhs),
    }
}

fn arithmetic(
    op: BinaryOp,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
) -> Result<Option<Value>, String> {
    let (Some(lhs), Some(rhs)) = (lhs, rhs) else {
        return Ok(None);
    };
    let not_a_number = |v: &Value| format!("{:?} is not a number", value::text(v));
    if let (Some(a), Some(b)) = (
        value::parse_integer_value(lhs),
        value::parse_integer_value(rhs),
    ) {
        let result = match op {
            BinaryOp::Add => a.checked_add(b),
            BinaryOp::Subtract => a.checked_sub(b),
            BinaryOp::Multiply => a.checked_mul(b),
            _ if b == 0 => return Err("division by zero".into()),
            _ if a % b == 0 => Some(a / b),
            _ => return Ok(Some(decimal(a as f64 / b as f64))),
        };
        return result
            .map(|n| Some(Value::Integer(n)))
            .ok_or_else(|| "the result is too large".into());
    }
    let a = value::number(lhs).ok_or_else(|| not_a_number(lhs))?;
    let b = value::number(rhs).ok_or_else(|| not_a_number(rhs))?;
    let result = match op {
        BinaryOp::Add => a + b,
        BinaryOp::Subtract => a - b,
        BinaryOp::Multiply => a * b,
        _ if b == 0.0 => return Err("division by zero".into()),
        _ => a / b,
    };
    Ok(Some(decimal(result)))
}

/// A computed number: an integer when it is whole, otherwise its shortest decimal text.
pub(crate) fn decimal(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e18 {
        Value::Integer(n as i64)
    } else {
        Value::String(n.to_string())
    }
}
