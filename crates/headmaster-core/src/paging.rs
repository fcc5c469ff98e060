//! Paging for lists that can grow without bound (the inbox, grants): a page request with an
//! opaque cursor, and a page with the total and the cursor of the next one. The cursor is the
//! (created_at, id) of the last item shown, so a page starts strictly after it whatever was
//! added since; lists are ordered newest first by exactly that pair.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};

/// One page of a list, newest first.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// How many items match the filter in all.
    pub total: u32,
    /// Pass this back for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// Which page of a list to read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct PageRequest {
    /// The `next_cursor` of the page before; none for the first page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Items per page (1–200; 50 when absent).
    #[serde(default)]
    pub limit: Option<u32>,
}

impl PageRequest {
    /// The first page of `limit` items.
    pub fn first(limit: u32) -> Self {
        Self {
            cursor: None,
            limit: Some(limit),
        }
    }

    /// The page after `cursor`.
    pub fn after(cursor: impl Into<String>, limit: u32) -> Self {
        Self {
            cursor: Some(cursor.into()),
            limit: Some(limit),
        }
    }

    /// The page size, checked.
    pub(crate) fn size(&self) -> Result<u32> {
        match self.limit {
            None => Ok(50),
            Some(n @ 1..=200) => Ok(n),
            Some(n) => Err(Error::InvalidInput(format!(
                "a page holds 1 to 200 items, not {n}"
            ))),
        }
    }

    /// The position after which this page starts: (created_at, id) of the last item before.
    pub(crate) fn position(&self) -> Result<Option<(i64, String)>> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        let bad = || {
            Error::InvalidInput(format!(
                "{cursor:?} is not a cursor this list returned; start again from the first page"
            ))
        };
        let (at, id) = cursor.split_once('.').ok_or_else(bad)?;
        let at: i64 = at.parse().map_err(|_| bad())?;
        if id.is_empty() || id.len() > 64 {
            return Err(bad());
        }
        Ok(Some((at, id.to_string())))
    }
}

/// The cursor that continues after an item.
pub(crate) fn cursor_after(created_at: i64, id: &str) -> String {
    format!("{created_at}.{id}")
}
