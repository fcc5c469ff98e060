//! The tray icon: it keeps the app running, and its notifications coming, while the window is
//! closed to the tray. Its menu shows how many approvals wait for the signed-in person (Linux
//! tray hosts show no tooltips; elsewhere the tooltip says the same), opens the window and quits.
//!
//! A click on an approval notification brings the window back too, with the inbox open.
//!
//! The tray exists only in the real app (`run`); tests on the mock runtime have none, and
//! `show_pending` then does nothing.

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{App, AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

use crate::events::{self, MAIN_WINDOW, OPEN_APPROVALS};
use crate::worker::pending_text;

/// The tray icon's id.
pub const TRAY_ID: &str = "headmaster";

/// The menu line that shows the number of approvals waiting.
struct PendingLine<R: Runtime>(MenuItem<R>);

/// Creates the tray icon with its menu.
pub fn create<R: Runtime>(app: &App<R>) -> tauri::Result<()> {
    let pending = MenuItem::with_id(app, "pending", pending_text(0), false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open Headmaster", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Headmaster", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&pending, &separator, &open, &quit])?;
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip(pending_text(0))
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id.as_ref() {
            "open" => show_window(app),
            "quit" => app.exit(0),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                show_window(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    app.manage(PendingLine(pending));
    Ok(())
}

/// Whether the app has a tray icon (closing the window then hides it instead of quitting).
pub fn exists<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.tray_by_id(TRAY_ID).is_some()
}

/// Shows `count` approvals waiting in the tray's tooltip and menu.
pub fn show_pending<R: Runtime>(app: &AppHandle<R>, count: usize) {
    let text = pending_text(count);
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        if let Err(error) = tray.set_tooltip(Some(&text)) {
            tracing::warn!(%error, "could not update the tray tooltip");
        }
    }
    if let Some(line) = app.try_state::<PendingLine<R>>() {
        if let Err(error) = line.0.set_text(&text) {
            tracing::warn!(%error, "could not update the tray menu");
        }
    }
}

/// Makes a click on a notification show the window with the Approvals inbox open. Every
/// notification the app posts is about approvals.
pub fn open_inbox_on_click<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    let registered = app.notification().on_action(move |performed| {
        if performed.action_id() == "tap" {
            show_window(&handle);
            events::to_main(&handle, OPEN_APPROVALS, ());
        }
    });
    if let Err(error) = registered {
        tracing::warn!(%error, "clicks on notifications will not open the inbox");
    }
}

/// Shows, unminimises and focuses the main window.
pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let shown = window
            .show()
            .and_then(|()| window.unminimize())
            .and_then(|()| window.set_focus());
        if let Err(error) = shown {
            tracing::warn!(%error, "could not show the main window");
        }
    }
}
