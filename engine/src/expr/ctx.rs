//! What one evaluation carries besides values: its budget (so no input can make it allocate or
//! loop without bound) and a small cache of compiled regular expressions.

use regex::{Regex, RegexBuilder};

use super::error::Fail;

/// expr-lang's default memory budget, in units of one array element, map entry or range item
/// (strings built by the evaluator count one unit per 16 bytes).
pub(crate) const MEMORY_BUDGET: usize = 1_000_000;
/// How much work one evaluation may do: one unit per predicate iteration, per element an
/// operator or function looks at, per 16 bytes of string it scans.
pub(crate) const STEP_LIMIT: usize = 2_000_000;
/// How large a compiled regular expression may be, in bytes.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
const REGEX_CACHE: usize = 16;

/// Budget and caches of one evaluation.
#[derive(Debug, Default)]
pub(crate) struct Ctx {
    memory: usize,
    steps: usize,
    regexes: Vec<(String, Regex)>,
}

impl Ctx {
    /// Counts `units` against the memory budget.
    pub fn charge(&mut self, units: usize) -> Result<(), Fail> {
        self.memory = self.memory.saturating_add(units);
        if self.memory >= MEMORY_BUDGET {
            return Err(Fail::Limit("memory budget exceeded".to_owned()));
        }
        Ok(())
    }

    /// Counts one iteration against the work limit.
    pub fn step(&mut self) -> Result<(), Fail> {
        self.work(1)
    }

    /// Counts `units` of work against the work limit.
    pub fn work(&mut self, units: usize) -> Result<(), Fail> {
        self.steps = self.steps.saturating_add(units);
        if self.steps > STEP_LIMIT {
            return Err(Fail::Limit(format!(
                "evaluation exceeds its work limit of {STEP_LIMIT} steps"
            )));
        }
        Ok(())
    }

    /// The compiled form of `pattern` (Go RE2 syntax, which the `regex` crate shares).
    pub fn regex(&mut self, pattern: &str) -> Result<&Regex, Fail> {
        let index = match self.regexes.iter().position(|(p, _)| p == pattern) {
            Some(i) => i,
            None => {
                let re = RegexBuilder::new(pattern)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| format!("invalid regular expression {pattern:?}: {e}"))?;
                if self.regexes.len() >= REGEX_CACHE {
                    self.regexes.remove(0);
                }
                self.regexes.push((pattern.to_owned(), re));
                self.regexes.len() - 1
            }
        };
        Ok(&self.regexes[index].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_runs_out() {
        let mut ctx = Ctx::default();
        assert!(ctx.charge(MEMORY_BUDGET - 1).is_ok());
        assert!(matches!(ctx.charge(1), Err(Fail::Limit(_))));
    }

    #[test]
    fn steps_run_out() {
        let mut ctx = Ctx {
            steps: STEP_LIMIT,
            ..Ctx::default()
        };
        assert!(matches!(ctx.step(), Err(Fail::Limit(_))));
    }

    #[test]
    fn regexes_compile_once_and_bad_ones_fail() {
        let mut ctx = Ctx::default();
        for i in 0..(REGEX_CACHE + 3) {
            let p = format!("a{i}");
            assert!(ctx.regex(&p).is_ok_and(|r| r.is_match(&p)));
        }
        assert_eq!(ctx.regexes.len(), REGEX_CACHE);
        assert!(ctx.regex("(").is_err());
        assert!(ctx.regex("a{1000}{1000}").is_err());
    }
}
