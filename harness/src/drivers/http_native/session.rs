//! A worker's connection and what belongs to it: how many more requests it may carry
//! ([`Budget`]), the variables its answers set (`extract`), and its setup requests.
//!
//! Setup templates (`setup = true`, "log in") run once on every new connection, in file order,
//! before its first timed request; each is recorded apart ([`WorkerCore::record_setup`]), never
//! in the steady-state figures. A setup request that fails (status, check, I/O) drops the
//! connection: the timed operation waiting for it fails with the same kind, and the worker
//! pauses before trying again, as after a refused connection, so a login that keeps failing
//! does not make the worker spin.

use super::client::Conn;
use super::reuse::Budget;
use super::WorkerEnv;
use crate::load::errors::{ErrorKind, OpOutcome};
use crate::load::worker::WorkerCore;
use crate::targets::http::judge::judge_checked;
use crate::targets::http::maker::{NotMade, RequestMaker};
use crate::targets::http::template::ConnVars;
use std::time::Instant;

/// One worker's connection state.
pub struct Session {
    pub conn: Option<Conn>,
    pub budget: Budget,
    pub vars: ConnVars,
}

impl Session {
    pub fn new(ctx: &WorkerEnv) -> Session {
        Session {
            conn: None,
            budget: Budget::new(ctx.max_requests),
            vars: ctx.table.conn_vars(),
        }
    }

    /// Forgets the connection and everything its answers set.
    pub fn drop_conn(&mut self) {
        self.conn = None;
        self.vars.clear();
    }

    /// Opens a connection (telling `core` how long that took) and runs the setup requests on
    /// it. Returns when the setup requests ended (`None` when there are none); an error is the
    /// kind that ended the attempt, the connection then dropped.
    pub async fn open(
        &mut self,
        ctx: &WorkerEnv,
        maker: &mut RequestMaker,
        core: &mut WorkerCore,
    ) -> Result<Option<Instant>, ErrorKind> {
        let (mut c, opened) = Conn::open(&ctx.dialer, ctx.client, ctx.timeout).await?;
        core.connected(opened.connect, opened.handshake);
        if ctx.open_model {
            c.stamp_arrivals();
        }
        self.budget.renew();
        self.vars.clear();
        self.conn = Some(c);
        let mut ended = None;
        for t in ctx.table.setup_templates() {
            let start = Instant::now();
            let outcome = self.setup_request(ctx, maker, core, t).await;
            let done = Instant::now();
            let ns = (done.saturating_duration_since(start).as_nanos() as u64).max(1);
            core.record_setup(t, ns, &outcome.of_template(t));
            ended = Some(done);
            if outcome.failed {
                self.drop_conn();
                let kind = ErrorKind::ALL
                    .into_iter()
                    .find(|k| outcome.errors[*k as usize] > 0)
                    .unwrap_or(ErrorKind::Check);
                return Err(kind);
            }
        }
        Ok(ended)
    }

    /// Sends setup template `t` on the open connection and judges the answer.
    async fn setup_request(
        &mut self,
        ctx: &WorkerEnv,
        maker: &mut RequestMaker,
        core: &WorkerCore,
        t: usize,
    ) -> OpOutcome {
        let made = match maker.make_from(t, &self.vars) {
            Ok(m) => m,
            Err(NotMade::Unset(_)) => return OpOutcome::failure(ErrorKind::Check, 0),
            Err(NotMade::Exhausted(e)) => {
                core.abort(e.to_string());
                return OpOutcome::failure(ErrorKind::Check, 0);
            }
        };
        // Not spent from the budget: that counts timed requests (`connection = "close"` with
        // a login is a login and one request per connection).
        let tx = made.submitted_tx;
        let Some(conn) = self.conn.as_mut() else {
            return OpOutcome::failure(ErrorKind::Io, tx);
        };
        let last = false;
        let sent = tokio::time::timeout(ctx.timeout, conn.send(&ctx.table, made, last)).await;
        match sent {
            Err(_) => OpOutcome::failure(ErrorKind::Timeout, tx),
            Ok(Err(kind)) => OpOutcome::failure(kind, tx),
            Ok(Ok(a)) => {
                let answer = (t, a.status);
                let o = judge_checked(
                    &ctx.table,
                    ctx.engine,
                    answer,
                    &a.checked,
                    tx,
                    &mut self.vars,
                )
                .of_template(t);
                core.sample_answer(&o, a.status, a.checked.body, a.checked.truncated);
                o
            }
        }
    }
}
