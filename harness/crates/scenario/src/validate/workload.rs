//! `[workload]`: the transaction mix (accounts, balances, batch size, account choice, amounts,
//! engine design, deliberately invalid fractions).
//!
//! Every key is optional and has a default that matches the engine's own benchmarks; the
//! checks keep the mix runnable: a total supply that fits in a `u64`, a zipf exponent only with
//! zipf, at least one account per shard, and invalid fractions that sum to at most 100 %.

use toml::Value;

use super::values::Ctx;
use super::Result;
use crate::plan::{Distribution, EngineDesign, InvalidMix, Workload};
use crate::raw::{RawDesign, RawDistribution, RawInvalid, RawWorkload, S};

const MAX_BATCH: u64 = 1_048_576;

/// The workload when `[workload]` (or one of its keys) is left out.
fn defaults() -> Workload {
    Workload {
        accounts: 1_000_000,
        initial_balance: 1_000_000_000,
        batch_size: 1024,
        distribution: Distribution::Uniform,
        amount_min: 1,
        amount_max: 100,
        invalid: InvalidMix::default(),
        design: EngineDesign::SingleWriter,
        shards: None,
        seed: 1,
        synthetic_cost: 0,
        prefetch: true,
    }
}

pub(super) fn workload(cx: &Ctx, raw: Option<&S<RawWorkload>>) -> Result<Workload> {
    let mut w = defaults();
    let Some(raw) = raw else { return Ok(w) };
    let r = raw.get_ref();
    (w.accounts, w.initial_balance) = supply(cx, raw, w.accounts, w.initial_balance)?;
    if let Some(b) = &r.batch_size {
        w.batch_size = cx.u32_in(b, "workload.batch_size", 1, MAX_BATCH)?;
    }
    if let Some(d) = distribution(cx, raw)? {
        w.distribution = d;
    }
    if let Some(a) = &r.amount {
        (w.amount_min, w.amount_max) = amount(cx, a)?;
    }
    if let Some(d) = &r.design {
        w.design = match d.get_ref() {
            RawDesign::SingleWriter => EngineDesign::SingleWriter,
            RawDesign::Cas => EngineDesign::Cas,
        };
    }
    if let Some(s) = &r.shards {
        w.shards = Some(shards(cx, s, w.accounts)?);
    }
    if let Some(s) = &r.seed {
        w.seed = *s.get_ref();
    }
    if let Some(c) = &r.synthetic_cost {
        w.synthetic_cost = cx.u32_in(c, "workload.synthetic_cost", 0, 1_000_000)?;
    }
    if let Some(p) = &r.prefetch {
        w.prefetch = *p.get_ref();
    }
    if let Some(inv) = &r.invalid {
        w.invalid = invalid_mix(cx, inv)?;
    }
    Ok(w)
}

/// `accounts` and `initial_balance` (defaults given), whose product must fit in a `u64`.
fn supply(cx: &Ctx, raw: &S<RawWorkload>, accounts: u64, balance: u64) -> Result<(u64, u64)> {
    let r = raw.get_ref();
    let (mut accounts, mut balance) = (accounts, balance);
    if let Some(a) = &r.accounts {
        if *a.get_ref() < 2 {
            return Err(cx.err(
                a.span(),
                "workload.accounts",
                format!(
                    "must be at least 2 (a transfer needs a sender and a receiver), found {}",
                    a.get_ref()
                ),
            ));
        }
        accounts = *a.get_ref();
    }
    if let Some(b) = &r.initial_balance {
        if *b.get_ref() < 1 {
            return Err(cx.err(b.span(), "workload.initial_balance", "must be at least 1"));
        }
        balance = *b.get_ref();
    }
    if accounts.checked_mul(balance).is_none() {
        let span = r
            .initial_balance
            .as_ref()
            .or(r.accounts.as_ref())
            .map_or(raw.span(), |v| v.span());
        return Err(cx.err(
            span,
            "workload.initial_balance",
            format!(
                "total supply accounts * initial_balance = {} * {} overflows u64 (max {}); lower one of them",
                accounts,
                balance,
                u64::MAX
            ),
        ));
    }
    Ok((accounts, balance))
}

/// `distribution` with its `zipf_exponent`; `None` keeps the default (uniform).
fn distribution(cx: &Ctx, raw: &S<RawWorkload>) -> Result<Option<Distribution>> {
    let r = raw.get_ref();
    let zipf = r
        .distribution
        .as_ref()
        .is_some_and(|d| *d.get_ref() == RawDistribution::Zipf);
    match (&r.zipf_exponent, zipf) {
        (Some(e), true) => {
            let x = *e.get_ref();
            if !(x.is_finite() && x > 0.0) {
                return Err(cx.err(
                    e.span(),
                    "workload.zipf_exponent",
                    format!("must be a number greater than 0, found {x}"),
                ));
            }
            Ok(Some(Distribution::Zipf { exponent: x }))
        }
        (None, true) => {
            let span = r.distribution.as_ref().map_or(raw.span(), |d| d.span());
            Err(cx.err(
                span,
                "workload.zipf_exponent",
                "required when distribution = \"zipf\", e.g. zipf_exponent = 1.1",
            ))
        }
        (Some(e), false) => Err(cx.err(
            e.span(),
            "workload.zipf_exponent",
            "only allowed with distribution = \"zipf\"",
        )),
        (None, false) => Ok(None),
    }
}

/// `amount = [min, max]`, 1 <= min <= max.
fn amount(cx: &Ctx, a: &S<Vec<S<u64>>>) -> Result<(u64, u64)> {
    let items = a.get_ref();
    if items.len() != 2 {
        return Err(cx.err(
            a.span(),
            "workload.amount",
            format!(
                "expected [min, max] (two integers), found {} values",
                items.len()
            ),
        ));
    }
    let (min, max) = (*items[0].get_ref(), *items[1].get_ref());
    if min < 1 {
        return Err(cx.err(items[0].span(), "workload.amount[0]", "the minimum amount must be at least 1 (zero amounts are an invalid kind: use workload.invalid.zero_amount)"));
    }
    if min > max {
        return Err(cx.err(
            a.span(),
            "workload.amount",
            format!("min {min} is greater than max {max}"),
        ));
    }
    Ok((min, max))
}

/// `shards`: at least one account per shard.
fn shards(cx: &Ctx, s: &S<u64>, accounts: u64) -> Result<u32> {
    let n = cx.u32_in(s, "workload.shards", 1, 65_536)?;
    if u64::from(n) > accounts {
        return Err(cx.err(
            s.span(),
            "workload.shards",
            format!("{n} shards for {accounts} accounts: each shard needs at least one account"),
        ));
    }
    Ok(n)
}

/// `[workload.invalid]`: each fraction in 0..=1, their sum at most 1.
fn invalid_mix(cx: &Ctx, inv: &S<RawInvalid>) -> Result<InvalidMix> {
    let i = inv.get_ref();
    let f = |v: &Option<S<Value>>, key: &str| -> Result<f64> {
        v.as_ref().map_or(Ok(0.0), |v| {
            cx.fraction(v, &format!("workload.invalid.{key}"))
        })
    };
    let mix = InvalidMix {
        bad_nonce: f(&i.bad_nonce, "bad_nonce")?,
        unknown_account: f(&i.unknown_account, "unknown_account")?,
        self_transfer: f(&i.self_transfer, "self_transfer")?,
        zero_amount: f(&i.zero_amount, "zero_amount")?,
        insufficient_funds: f(&i.insufficient_funds, "insufficient_funds")?,
    };
    let total = mix.total();
    // A little slack for fractions written as decimals that sum to exactly 1.
    if total > 1.0 + 1e-9 {
        return Err(cx.err(
            inv.span(),
            "workload.invalid",
            format!("the fractions sum to {total}, more than 1 (100% of transactions)"),
        ));
    }
    Ok(mix)
}
