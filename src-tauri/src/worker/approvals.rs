//! The approval watcher: reads the signed-in person's inbox across their workspaces every
//! period, or at once when the core announces a request or a decision in this process, and
//! posts a native notification for each request they may decide that it has not seen before.
//! Requests filed by another process (the CLI, another app on the same data directory) reach
//! the database only, which is why it reads rather than waiting for events alone; the change
//! watcher (`changes`) wakes it when such a process commits.
//!
//! Each pass also keeps the tray's text and the window's badge (`approvals-changed`) in step
//! with the number of requests waiting for the person.

use std::collections::HashSet;

use headmaster_core::approvals::{ApprovalSummary, PageRequest};
use headmaster_core::ids::{UserId, WorkspaceId};
use headmaster_core::{Instance, Session};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

use super::notice::{self, Notice};
use super::PERIOD;
use crate::events::{self, ApprovalsChanged};
use crate::state::AppState;
use crate::tray;

/// Most notifications posted for one pass; the rest are announced together.
const BURST: usize = 3;

/// Runs the watcher for the life of the app.
pub async fn watch<R: Runtime>(app: AppHandle<R>) {
    let state = app.state::<AppState>();
    let mut inbox = Inbox::default();
    loop {
        let instance = state.instance.read().await.clone();
        let session = state.session.read().await.clone();
        match (instance, session) {
            (Some(instance), Some(session)) => {
                if let Err(error) = inbox.poll(&app, &instance, &session).await {
                    state.forget_session_if_over(&error).await;
                    tracing::warn!(%error, "could not read the approvals inbox");
                }
            }
            _ => inbox.signed_out(&app),
        }
        // The periodic pass is the fallback for changes nothing signals (a watch that could
        // not be set up); a signal wakes the watcher at once.
        tokio::select! {
            () = tokio::time::sleep(PERIOD) => {}
            () = state.signals.approvals.notified() => {}
        }
    }
}

/// What the watcher remembers between passes.
#[derive(Debug, Default)]
struct Inbox {
    /// Whose inbox it is; a different person starts afresh.
    user: Option<UserId>,
    /// Requests already announced to that person.
    seen: HashSet<String>,
    /// The count last shown, once one was.
    shown: Option<usize>,
}

/// A request the person may decide, with its workspace.
#[derive(Debug)]
struct Waiting {
    workspace: WorkspaceId,
    workspace_name: String,
    request: ApprovalSummary,
}

impl Inbox {
    async fn poll<R: Runtime>(
        &mut self,
        app: &AppHandle<R>,
        instance: &Instance,
        session: &Session,
    ) -> headmaster_core::Result<()> {
        if self.user != Some(session.user_id) {
            *self = Inbox {
                user: Some(session.user_id),
                ..Inbox::default()
            };
        }
        let waiting = decidable(instance, session).await?;
        let fresh: Vec<&Waiting> = waiting
            .iter()
            .filter(|w| !self.seen.contains(&w.request.id))
            .collect();
        for item in fresh.iter().take(BURST) {
            // The summary of what would happen is a courtesy; the notification goes out
            // without it if the request cannot be read in full.
            let detail = instance
                .show_approval(session, item.workspace, &item.request.id)
                .await
                .ok();
            post(
                app,
                notice::for_request(&item.workspace_name, &item.request, detail.as_ref()),
            );
        }
        if fresh.len() > BURST {
            post(app, notice::for_more(fresh.len() - BURST));
        }
        let new: Vec<String> = fresh.iter().map(|w| w.request.id.clone()).collect();
        self.seen.extend(new.iter().cloned());
        if !new.is_empty() || self.shown != Some(waiting.len()) {
            self.shown = Some(waiting.len());
            tray::show_pending(app, waiting.len());
            let change = ApprovalsChanged {
                pending: waiting.len(),
                new,
            };
            events::to_main(app, events::APPROVALS_CHANGED, change);
        }
        Ok(())
    }

    /// Nobody is signed in: forget the last person's inbox and clear the tray.
    fn signed_out<R: Runtime>(&mut self, app: &AppHandle<R>) {
        if self.user.is_some() || self.shown.is_some() {
            *self = Inbox::default();
            tray::show_pending(app, 0);
        }
    }
}

/// Pending requests in every workspace the person reads that they may decide now.
async fn decidable(
    instance: &Instance,
    session: &Session,
) -> headmaster_core::Result<Vec<Waiting>> {
    let me = instance.whoami(session).await?;
    let mut waiting = Vec::new();
    for workspace in me.workspaces {
        let Ok(id) = workspace.id.parse::<WorkspaceId>() else {
            continue;
        };
        if !workspace.capabilities.contains(&"workspace.read") {
            continue;
        }
        let mut page = PageRequest::first(200);
        loop {
            let found = instance
                .list_approvals(session, id, Some("pending"), &page)
                .await?;
            for request in found.items {
                if request.can_decide {
                    waiting.push(Waiting {
                        workspace: id,
                        workspace_name: workspace.name.clone(),
                        request,
                    });
                }
            }
            match found.next_cursor {
                Some(cursor) => page = PageRequest::after(cursor, 200),
                None => break,
            }
        }
    }
    Ok(waiting)
}

/// Posts a native notification. The plugin reports success even with no notification server,
/// so a failure here means the notification could not even be prepared.
pub(super) fn post<R: Runtime>(app: &AppHandle<R>, notice: Notice) {
    let shown = app
        .notification()
        .builder()
        .title(&notice.title)
        .body(&notice.body)
        .show();
    if let Err(error) = shown {
        tracing::warn!(%error, title = notice.title, "could not post a notification");
    }
}
