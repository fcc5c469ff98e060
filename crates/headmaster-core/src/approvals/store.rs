//! The approvals tables of one workspace, as SQL: requests, their decisions, and every move of
//! a request's status. It depends on nothing but the connection it is given (a pooled one for
//! reads, the caller's change for writes) and returns rows: it knows nothing of people, keys,
//! audit events or tools. Every UPDATE of `approvals.status` is here, guarded by the state
//! machine ([`ApprovalStatus::sources`]), so a move the table refuses cannot happen.

use headmaster_policy::Tier;
use sqlx::SqliteConnection;

use crate::audit::ActorKind;
use crate::error::{Error, Result};
use crate::states::{status_in, ApprovalDecision, ApprovalStatus};

/// Which requests a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filter {
    /// Waiting for decisions.
    Pending,
    /// Everything else.
    Decided,
    /// Both.
    All,
}

impl Filter {
    /// Parses `pending`, `decided` or `all` (the default when absent).
    pub(crate) fn parse(text: Option<&str>) -> Result<Self> {
        match text {
            None | Some("all") => Ok(Filter::All),
            Some("pending") => Ok(Filter::Pending),
            Some("decided") => Ok(Filter::Decided),
            Some(other) => Err(Error::InvalidInput(format!(
                "unknown status filter {other:?}; use pending, decided or all"
            ))),
        }
    }

    fn sql(self) -> String {
        let statuses: Vec<ApprovalStatus> = ApprovalStatus::ALL
            .iter()
            .copied()
            .filter(|s| match self {
                Filter::Pending => *s == ApprovalStatus::Pending,
                Filter::Decided => *s != ApprovalStatus::Pending,
                Filter::All => true,
            })
            .collect();
        status_in("a.status", &statuses, ApprovalStatus::as_str)
    }
}

/// The columns of `SummaryRow`, for a query over `approvals a` whose first parameter (`?1`) is
/// the viewer's user id: the request, its approvals so far, and whether the viewer voted.
const SUMMARY_COLUMNS: &str = "a.id, a.status, a.tier, a.quorum, a.requester_kind, a.requester_id, \
    a.on_behalf_of, a.run_id, a.action, a.args_hash, a.created_at, a.expires_at, \
    (SELECT COUNT(*) FROM approval_decisions d WHERE d.approval_id = a.id AND d.decision = 'approve') AS approvals, \
    EXISTS (SELECT 1 FROM approval_decisions d WHERE d.approval_id = a.id AND d.decider_id = ?1) AS voted";

/// A request as the inbox reads it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SummaryRow {
    pub id: String,
    pub status: ApprovalStatus,
    pub tier: Tier,
    pub quorum: i64,
    pub requester_kind: ActorKind,
    pub requester_id: String,
    pub on_behalf_of: String,
    pub run_id: Option<String>,
    pub action: String,
    pub args_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub approvals: i64,
    pub voted: bool,
}

/// A request's sealed parts.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SealedParts {
    pub request: Vec<u8>,
    pub result: Option<Vec<u8>>,
}

/// A request with its sealed parts, for the detail.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct DetailRow {
    #[sqlx(flatten)]
    pub row: SummaryRow,
    #[sqlx(flatten)]
    pub sealed: SealedParts,
}

/// One stored decision.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct DecisionRow {
    pub id: String,
    pub decider_id: String,
    pub decision: ApprovalDecision,
    pub comment: Option<Vec<u8>>,
    pub decided_at: i64,
}

/// What deciding reads about a request (and whether the decider already voted).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct DecideRow {
    pub status: ApprovalStatus,
    pub tier: Tier,
    pub quorum: i64,
    pub on_behalf_of: String,
    pub action: String,
    pub run_id: Option<String>,
    pub step_id: Option<String>,
    pub expires_at: i64,
    pub voted: bool,
}

/// What executing an approved request reads.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ExecuteRow {
    pub action: String,
    pub args_hash: String,
    pub requester_kind: ActorKind,
    pub requester_id: String,
    pub run_id: Option<String>,
    pub step_id: Option<String>,
    pub tier: Tier,
}

/// A request to insert (its body already sealed).
#[derive(Debug)]
pub(crate) struct NewRequest<'a> {
    pub id: &'a str,
    pub tier: Tier,
    pub quorum: u8,
    pub requester_kind: ActorKind,
    pub requester_id: &'a str,
    pub on_behalf_of: &'a str,
    pub run_id: Option<&'a str>,
    pub step_id: Option<&'a str>,
    pub action: &'a str,
    pub args_hash: &'a str,
    pub sealed_request: &'a [u8],
    pub created_at: i64,
    pub expires_at: i64,
}

/// A decision to insert (its comment already sealed).
#[derive(Debug)]
pub(crate) struct NewDecision<'a> {
    pub id: &'a str,
    pub approval_id: &'a str,
    pub decider_id: &'a str,
    pub decision: ApprovalDecision,
    pub sealed_comment: Option<&'a [u8]>,
    pub decided_at: i64,
}

/// The time column a move stamps.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stamp {
    /// `decided_at`: approved, rejected, expired.
    Decided,
    /// `executed_at`: failed without running.
    Executed,
    /// Nothing (the claim `approved → executing`).
    None,
}

/// One page, newest first (created_at, then id), starting after `after`; `limit + 1` rows are
/// read so the caller knows whether another page follows. Returns the rows and the total.
pub(crate) async fn page(
    conn: &mut SqliteConnection,
    filter: Filter,
    viewer: &str,
    after: Option<(i64, String)>,
    limit: u32,
) -> Result<(Vec<SummaryRow>, i64)> {
    let filter = filter.sql();
    let (after_at, after_id) = after.unzip();
    let rows = sqlx::query_as(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM approvals a
         WHERE {filter} AND (?2 IS NULL OR (a.created_at, a.id) < (?2, ?3))
         ORDER BY a.created_at DESC, a.id DESC LIMIT ?4"
    ))
    .bind(viewer)
    .bind(after_at)
    .bind(after_id)
    .bind(i64::from(limit) + 1)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM approvals a WHERE {filter}"))
        .fetch_one(&mut *conn)
        .await?;
    Ok((rows, total))
}

/// One request with its sealed parts, as `viewer` sees it.
pub(crate) async fn detail(
    conn: &mut SqliteConnection,
    id: &str,
    viewer: &str,
) -> Result<Option<DetailRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {SUMMARY_COLUMNS}, a.request, a.result FROM approvals a WHERE a.id = ?2"
    ))
    .bind(viewer)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// A request's decisions, oldest first.
pub(crate) async fn decisions(conn: &mut SqliteConnection, id: &str) -> Result<Vec<DecisionRow>> {
    Ok(sqlx::query_as(
        "SELECT id, decider_id, decision, comment, decided_at FROM approval_decisions
         WHERE approval_id = ? ORDER BY decided_at",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?)
}

/// A request's rejections: each decision's id and sealed comment.
pub(crate) async fn rejections(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Vec<(String, Option<Vec<u8>>)>> {
    Ok(sqlx::query_as(
        "SELECT id, comment FROM approval_decisions WHERE approval_id = ? AND decision = ?",
    )
    .bind(id)
    .bind(ApprovalDecision::Reject)
    .fetch_all(&mut *conn)
    .await?)
}

/// A request's status; `None` when there is no such request.
pub(crate) async fn status(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<ApprovalStatus>> {
    Ok(
        sqlx::query_scalar("SELECT status FROM approvals WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// A request's sealed body.
pub(crate) async fn sealed_request(conn: &mut SqliteConnection, id: &str) -> Result<Vec<u8>> {
    sqlx::query_scalar("SELECT request FROM approvals WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::not_found("approval request", id))
}

/// A request's sealed result, once it ran.
pub(crate) async fn sealed_result(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar("SELECT result FROM approvals WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .flatten(),
    )
}

/// Whether any pending request's time ran out (one indexed read, no write lock).
pub(crate) async fn any_due(conn: &mut SqliteConnection, now: i64) -> Result<bool> {
    let due: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM approvals WHERE status = ? AND expires_at <= ? LIMIT 1")
            .bind(ApprovalStatus::Pending)
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(due.is_some())
}

/// Expires every pending request whose time ran out; returns each one's id, action and run.
pub(crate) async fn expire_due(
    conn: &mut SqliteConnection,
    now: i64,
) -> Result<Vec<(String, String, Option<String>)>> {
    Ok(sqlx::query_as(&format!(
        "UPDATE approvals SET status = ?, decided_at = ? WHERE {} AND expires_at <= ?
         RETURNING id, action, run_id",
        sources_of(ApprovalStatus::Expired)
    ))
    .bind(ApprovalStatus::Expired)
    .bind(now)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?)
}

/// Withdraws (expires) a run's pending requests; returns each one's id and action.
pub(crate) async fn withdraw_for_run(
    conn: &mut SqliteConnection,
    run_id: &str,
    now: i64,
) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query_as(&format!(
        "UPDATE approvals SET status = ?, decided_at = ? WHERE run_id = ? AND {}
         RETURNING id, action",
        sources_of(ApprovalStatus::Expired)
    ))
    .bind(ApprovalStatus::Expired)
    .bind(now)
    .bind(run_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Files a request (pending).
pub(crate) async fn insert(conn: &mut SqliteConnection, new: &NewRequest<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO approvals (id, status, tier, quorum, requester_kind, requester_id, on_behalf_of, run_id, step_id,
             action, args_hash, request, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(new.id)
    .bind(ApprovalStatus::Pending)
    .bind(new.tier)
    .bind(i64::from(new.quorum))
    .bind(new.requester_kind)
    .bind(new.requester_id)
    .bind(new.on_behalf_of)
    .bind(new.run_id)
    .bind(new.step_id)
    .bind(new.action)
    .bind(new.args_hash)
    .bind(new.sealed_request)
    .bind(new.created_at)
    .bind(new.expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What deciding needs to know about a request, with whether `voter` already decided it.
pub(crate) async fn for_decision(
    conn: &mut SqliteConnection,
    id: &str,
    voter: &str,
) -> Result<Option<DecideRow>> {
    Ok(sqlx::query_as(
        "SELECT a.status, a.tier, a.quorum, a.on_behalf_of, a.action, a.run_id, a.step_id, a.expires_at,
                EXISTS (SELECT 1 FROM approval_decisions d WHERE d.approval_id = a.id AND d.decider_id = ?1) AS voted
         FROM approvals a WHERE a.id = ?2",
    )
    .bind(voter)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Records one decision; returns the request's approvals after it.
pub(crate) async fn add_decision(conn: &mut SqliteConnection, new: &NewDecision<'_>) -> Result<u8> {
    sqlx::query(
        "INSERT INTO approval_decisions (id, approval_id, decider_id, decision, comment, decided_at)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(new.id)
    .bind(new.approval_id)
    .bind(new.decider_id)
    .bind(new.decision)
    .bind(new.sealed_comment)
    .bind(new.decided_at)
    .execute(&mut *conn)
    .await?;
    let approvals: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM approval_decisions WHERE approval_id = ? AND decision = ?",
    )
    .bind(new.approval_id)
    .bind(ApprovalDecision::Approve)
    .fetch_one(&mut *conn)
    .await?;
    Ok(approvals.clamp(0, 255) as u8)
}

/// What executing an approved request needs.
pub(crate) async fn for_execution(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<ExecuteRow>> {
    Ok(sqlx::query_as(
        "SELECT action, args_hash, requester_kind, requester_id, run_id, step_id, tier
         FROM approvals WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Moves a request to `next` if the state machine lets its current status become `next`,
/// stamping `stamp` with `at`. Returns whether it moved.
pub(crate) async fn move_to(
    conn: &mut SqliteConnection,
    id: &str,
    next: ApprovalStatus,
    stamp: Stamp,
    at: i64,
) -> Result<bool> {
    move_from(conn, id, &ApprovalStatus::sources(next), next, stamp, at).await
}

/// Moves a request to `next` only from one of `from` (a subset of what the state machine
/// allows: an approved request whose body cannot be opened fails from `approved`, never from
/// `executing`). Returns whether it moved.
pub(crate) async fn move_from(
    conn: &mut SqliteConnection,
    id: &str,
    from: &[ApprovalStatus],
    next: ApprovalStatus,
    stamp: Stamp,
    at: i64,
) -> Result<bool> {
    debug_assert!(from.iter().all(|s| s.may_become(next)), "{from:?} → {next}");
    let set = match stamp {
        Stamp::Decided => ", decided_at = ?",
        Stamp::Executed => ", executed_at = ?",
        Stamp::None => ", decided_at = decided_at",
    };
    let sql = format!(
        "UPDATE approvals SET status = ?{set} WHERE id = ? AND {}",
        status_in("status", from, ApprovalStatus::as_str)
    );
    let mut query = sqlx::query(&sql).bind(next);
    if !matches!(stamp, Stamp::None) {
        query = query.bind(at);
    }
    Ok(query.bind(id).execute(&mut *conn).await?.rows_affected() == 1)
}

/// Ends an executing request as executed or failed, with its sealed result.
pub(crate) async fn finish(
    conn: &mut SqliteConnection,
    id: &str,
    status: ApprovalStatus,
    sealed_result: &[u8],
    at: i64,
) -> Result<bool> {
    Ok(sqlx::query(&format!(
        "UPDATE approvals SET status = ?, executed_at = ?, result = ? WHERE id = ? AND {}",
        status_in(
            "status",
            &[ApprovalStatus::Executing],
            ApprovalStatus::as_str
        )
    ))
    .bind(status)
    .bind(at)
    .bind(sealed_result)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// The guard of an UPDATE that moves a request to `next`.
fn sources_of(next: ApprovalStatus) -> String {
    status_in(
        "status",
        &ApprovalStatus::sources(next),
        ApprovalStatus::as_str,
    )
}
