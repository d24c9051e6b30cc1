//! Escaping text for the languages the reports are written in: one function per language.
//!
//! Every renderer in this crate (and any other crate that writes Markdown, HTML or XML by
//! hand) escapes through these, so a scenario name with a `<` or a `|` in it cannot break one
//! format while another shows it correctly.

/// Escape text for an XML attribute value or element content.
///
/// The five XML special characters become entities; control characters that XML 1.0 cannot
/// hold at all become `?` (tab, newline and carriage return are kept).
///
/// ```
/// assert_eq!(report::escape::xml("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
/// assert_eq!(report::escape::xml("bell\u{7}"), "bell?");
/// ```
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot hold at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// Escape text for HTML element content or a quoted attribute value.
///
/// The same as [`xml`]: `&apos;` is valid HTML5, and one rule for both keeps the HTML report
/// (whose inline SVG is XML) byte-for-byte what it has always been.
///
/// ```
/// assert_eq!(report::escape::html("p99 < 1 ms & \"fast\""), "p99 &lt; 1 ms &amp; &quot;fast&quot;");
/// ```
pub fn html(s: &str) -> String {
    xml(s)
}

/// Escape text for a Markdown paragraph, list item or table cell.
///
/// The nine characters that start Markdown (or HTML) syntax, `` | * _ ` < > [ ] \ ``, get a
/// backslash; a newline becomes a space, since it would end a table row or a list item.
///
/// ```
/// assert_eq!(report::escape::markdown("a|b *c* <d>"), r"a\|b \*c\* \<d\>");
/// assert_eq!(report::escape::markdown("two\nlines"), "two lines");
/// ```
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' | '*' | '_' | '`' | '<' | '>' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Text for a Markdown code span: backslashes do not escape inside one, so a backtick (which
/// would end the span) becomes a quote.
pub(crate) fn markdown_code(s: &str) -> String {
    s.replace('`', "'")
}

/// A link destination inside `<…>`: only `>` would end it.
pub(crate) fn markdown_link_target(s: &str) -> String {
    s.replace('>', "%3E")
}
