//! A small subset of the autoscale formula language: assignments of arithmetic expressions over
//! numbers and previously assigned variables, with `min`/`max`. Enough for formulas such as
//! `$TargetDedicatedNodes = 2; $NodeDeallocationOption = taskcompletion;`. Anything else yields
//! an `autoScaleRun.error` (AutoScalingFormulaSyntaxError), as the service reports bad formulas.

use serde_json::{Value, json};
use std::collections::BTreeMap;

use crate::state::{Pool, i, s};
use crate::util::{now_iso, now_ms};

pub struct Run {
    pub results: BTreeMap<String, String>,
    pub error: Option<(String, String)>,
}

impl Run {
    pub fn to_value(&self) -> Value {
        let mut v = json!({"timestamp": now_iso()});
        if let Some((code, message)) = &self.error {
            v["error"] = json!({"code": code, "message": message});
        } else {
            let txt: Vec<String> = self
                .results
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            v["results"] = json!(txt.join(";"));
        }
        v
    }
}

/// Evaluate a formula against a pool's current values.
pub fn evaluate(formula: &str, pool: &Value) -> Run {
    let mut vars: BTreeMap<String, Value> = BTreeMap::new();
    vars.insert(
        "$TargetDedicatedNodes".into(),
        json!(i(pool, "targetDedicatedNodes") as f64),
    );
    vars.insert(
        "$TargetLowPriorityNodes".into(),
        json!(i(pool, "targetLowPriorityNodes") as f64),
    );
    vars.insert(
        "$CurrentDedicatedNodes".into(),
        json!(i(pool, "currentDedicatedNodes") as f64),
    );
    vars.insert(
        "$CurrentLowPriorityNodes".into(),
        json!(i(pool, "currentLowPriorityNodes") as f64),
    );
    vars.insert("$NodeDeallocationOption".into(), json!("requeue"));
    let mut assigned: Vec<String> = vec![];
    for (n, stmt) in formula.split(';').enumerate() {
        let stmt = stmt.trim();
        if stmt.is_empty() || stmt.starts_with("//") {
            continue;
        }
        let Some((lhs, rhs)) = stmt.split_once('=') else {
            return err(n, stmt, "expected an assignment 'name = expression'");
        };
        let name = lhs.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        {
            return err(n, stmt, "invalid variable name");
        }
        let mut p = Parser {
            toks: tokenize(rhs),
            pos: 0,
            vars: &vars,
        };
        let val = match p.expr() {
            Ok(v) if p.pos == p.toks.len() => v,
            Ok(_) => return err(n, stmt, "unexpected text after the expression"),
            Err(e) => return err(n, stmt, &e),
        };
        vars.insert(name.to_string(), val);
        if !assigned.iter().any(|a| a == name) {
            assigned.push(name.to_string());
        }
    }
    let mut results = BTreeMap::new();
    for k in [
        "$TargetDedicatedNodes",
        "$TargetLowPriorityNodes",
        "$NodeDeallocationOption",
    ] {
        results.insert(k.to_string(), fmt(&vars[k]));
    }
    for a in assigned {
        results.insert(a.clone(), fmt(&vars[&a]));
    }
    Run {
        results,
        error: None,
    }
}

fn fmt(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            if f.fract() == 0.0 {
                format!("{}", f as i64)
            } else {
                format!("{f}")
            }
        }
        other => other.to_string(),
    }
}

fn err(n: usize, stmt: &str, why: &str) -> Run {
    Run {
        results: BTreeMap::new(),
        error: Some((
            "AutoScalingFormulaSyntaxError".into(),
            format!(
                "The autoscale formula has a syntax error in statement {} ('{stmt}'): {why}.",
                n + 1
            ),
        )),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Op(char),
}

fn tokenize(s: &str) -> Vec<Tok> {
    let mut out = vec![];
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let st = i;
            while i < cs.len() && (cs[i].is_ascii_digit() || cs[i] == '.') {
                i += 1;
            }
            out.push(Tok::Num(
                cs[st..i]
                    .iter()
                    .collect::<String>()
                    .parse()
                    .unwrap_or(f64::NAN),
            ));
        } else if c.is_ascii_alphabetic() || c == '$' || c == '_' {
            let st = i;
            while i < cs.len() && (cs[i].is_ascii_alphanumeric() || cs[i] == '$' || cs[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(cs[st..i].iter().collect()));
        } else {
            out.push(Tok::Op(c));
            i += 1;
        }
    }
    out
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    vars: &'a BTreeMap<String, Value>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn expr(&mut self) -> Result<Value, String> {
        let mut v = self.term()?;
        while let Some(Tok::Op(c @ ('+' | '-'))) = self.peek().cloned() {
            self.pos += 1;
            let r = num(&self.term()?)?;
            let l = num(&v)?;
            v = json!(if c == '+' { l + r } else { l - r });
        }
        Ok(v)
    }
    fn term(&mut self) -> Result<Value, String> {
        let mut v = self.atom()?;
        while let Some(Tok::Op(c @ ('*' | '/'))) = self.peek().cloned() {
            self.pos += 1;
            let r = num(&self.atom()?)?;
            let l = num(&v)?;
            if c == '/' && r == 0.0 {
                return Err("division by zero".into());
            }
            v = json!(if c == '*' { l * r } else { l / r });
        }
        Ok(v)
    }
    fn atom(&mut self) -> Result<Value, String> {
        match self.peek().cloned() {
            Some(Tok::Num(n)) if n.is_finite() => {
                self.pos += 1;
                Ok(json!(n))
            }
            Some(Tok::Op('(')) => {
                self.pos += 1;
                let v = self.expr()?;
                self.expect(')')?;
                Ok(v)
            }
            Some(Tok::Op('-')) => {
                self.pos += 1;
                Ok(json!(-num(&self.atom()?)?))
            }
            Some(Tok::Ident(id)) => {
                self.pos += 1;
                if matches!(id.as_str(), "min" | "max") && self.peek() == Some(&Tok::Op('(')) {
                    self.pos += 1;
                    let mut args = vec![num(&self.expr()?)?];
                    while self.peek() == Some(&Tok::Op(',')) {
                        self.pos += 1;
                        args.push(num(&self.expr()?)?);
                    }
                    self.expect(')')?;
                    let f = if id == "min" {
                        args.iter().cloned().fold(f64::INFINITY, f64::min)
                    } else {
                        args.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
                    };
                    return Ok(json!(f));
                }
                if let Some(v) = self.vars.get(&id) {
                    return Ok(v.clone());
                }
                if matches!(
                    id.as_str(),
                    "requeue" | "terminate" | "taskcompletion" | "retaineddata"
                ) {
                    return Ok(json!(id));
                }
                Err(format!(
                    "unknown name '{id}' (the local Batch service supports numbers, + - * /, min, max and assigned variables)"
                ))
            }
            other => Err(format!("unexpected token {other:?}")),
        }
    }
    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.peek() == Some(&Tok::Op(c)) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected '{c}'"))
        }
    }
}

fn num(v: &Value) -> Result<f64, String> {
    v.as_f64()
        .ok_or_else(|| format!("'{}' is not a number", fmt(v)))
}

/// Evaluate the pool's own formula, store `autoScaleRun` and, on success, the new targets.
pub fn apply(pool: &mut Pool) {
    let run = evaluate(s(&pool.body, "autoScaleFormula"), &pool.body);
    if run.error.is_none() {
        for (k, f) in [
            ("$TargetDedicatedNodes", "targetDedicatedNodes"),
            ("$TargetLowPriorityNodes", "targetLowPriorityNodes"),
        ] {
            let n = run
                .results
                .get(k)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
                .max(0.0) as i64;
            pool.body[f] = json!(n);
        }
    }
    pool.body["autoScaleRun"] = run.to_value();
    let interval = crate::util::parse_duration_ms(s(&pool.body, "autoScaleEvaluationInterval"))
        .unwrap_or(15 * 60_000);
    pool.next_autoscale_at = Some(now_ms() + interval);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_and_arith() {
        let pool = json!({"targetDedicatedNodes": 0});
        let r = evaluate("$TargetDedicatedNodes = 3;", &pool);
        assert!(r.error.is_none());
        assert_eq!(r.results["$TargetDedicatedNodes"], "3");
        let r = evaluate(
            "$x = 2; $TargetDedicatedNodes = max(1, $x * 2); $NodeDeallocationOption = taskcompletion;",
            &pool,
        );
        assert_eq!(r.results["$TargetDedicatedNodes"], "4");
        assert_eq!(r.results["$NodeDeallocationOption"], "taskcompletion");
        assert!(
            r.to_value()["results"]
                .as_str()
                .unwrap()
                .contains("$TargetDedicatedNodes=4")
        );
    }

    #[test]
    fn syntax_errors() {
        let pool = json!({});
        for f in [
            "$TargetDedicatedNodes = ;",
            "garbage",
            "$TargetDedicatedNodes = $Unknown.GetSample(1);",
        ] {
            let r = evaluate(f, &pool);
            assert_eq!(
                r.error.as_ref().unwrap().0,
                "AutoScalingFormulaSyntaxError",
                "{f}"
            );
        }
    }
}
