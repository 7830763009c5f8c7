//! What the list resources (`terraform query`) share: OData literals for `$filter`, and reading
//! a Batch list page by page into the framework's sink, stopping when Terraform has enough.

use batch_client::ListPages;
use serde::de::DeserializeOwned;
use tfplugin::Diagnostics;
use tfplugin::framework::{ListItem, ListSink};

use super::batch_error;

/// A string as an OData literal: quoted, with `'` doubled.
pub fn odata_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `$filter` clauses joined with `and` (None when there are none).
pub fn odata_and(clauses: Vec<String>) -> Option<String> {
    (!clauses.is_empty()).then(|| clauses.join(" and "))
}

/// Reads `pages` until the last page or until `out` takes no more; `item` turns an object into a
/// list item or skips it (None: filtered out on our side).
pub async fn send_pages<T: DeserializeOwned>(
    mut pages: ListPages<'_, T>,
    out: &mut ListSink,
    doing: &str,
    mut item: impl FnMut(T) -> Option<ListItem>,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    loop {
        if out.is_done() {
            return diags;
        }
        let page = match pages.next_page().await {
            Ok(Some(p)) => p,
            Ok(None) => return diags,
            Err(e) => {
                batch_error(&mut diags, doing, &e, None);
                return diags;
            }
        };
        for obj in page {
            if let Some(it) = item(obj)
                && !out.send(it).await
            {
                return diags;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odata_literals_double_quotes() {
        assert_eq!(odata_string("render-"), "'render-'");
        assert_eq!(odata_string("o'brien"), "'o''brien'");
        assert_eq!(odata_and(vec![]), None);
        assert_eq!(
            odata_and(vec!["a eq 'x'".into(), "b eq 'y'".into()]).as_deref(),
            Some("a eq 'x' and b eq 'y'")
        );
    }
}
