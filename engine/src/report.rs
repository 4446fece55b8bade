//! The shipped evaluation reports (`public/report/*.md`, written by `model-export`) read as blocks
//! the app can draw without HTML injection: headings, paragraphs, lists and tables, with bold,
//! italic and code spans. The markdown is read by pulldown-cmark (CommonMark + tables); links read
//! as their text, images as their alt text, raw HTML as the text it is.

/// A run of text with its style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The text.
    pub text: String,
    /// `**bold**`.
    pub bold: bool,
    /// `*italic*`.
    pub italic: bool,
    /// `` `code` ``.
    pub code: bool,
}

/// One block of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// `#`..`######` heading: level and text.
    Heading(u8, Vec<Span>),
    /// A paragraph (consecutive lines joined).
    Paragraph(Vec<Span>),
    /// `- ` items.
    List(Vec<Vec<Span>>),
    /// A `|` table: header cells and rows of cells.
    Table(Vec<Vec<Span>>, Vec<Vec<Vec<Span>>>),
    /// A fenced code block.
    Code(String),
}

/// The styled spans of one line of inline markdown.
pub fn inline(text: &str) -> Vec<Span> {
    match parse(text).into_iter().next() {
        Some(Block::Paragraph(spans) | Block::Heading(_, spans)) => spans,
        _ => Vec::new(),
    }
}

/// Reads a report (CommonMark with tables, by pulldown-cmark).
pub fn parse(text: &str) -> Vec<Block> {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let mut out = Vec::new();
    let mut spans: Vec<Span> = Vec::new();
    let (mut bold, mut italic) = (0u32, 0u32);
    let mut code: Option<String> = None;
    let mut lists = 0u32;
    let mut items: Vec<Vec<Span>> = Vec::new();
    let (mut header, mut row, mut rows) = (Vec::new(), Vec::new(), Vec::new());
    for event in Parser::new_ext(text, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => code = Some(String::new()),
            Event::End(TagEnd::CodeBlock) => {
                let c = code.take().unwrap_or_default();
                out.push(Block::Code(c.trim_end_matches('\n').to_string()));
            }
            Event::Text(t) if code.is_some() => code.get_or_insert_default().push_str(&t),
            Event::Start(Tag::Strong) => bold += 1,
            Event::End(TagEnd::Strong) => bold = bold.saturating_sub(1),
            Event::Start(Tag::Emphasis) => italic += 1,
            Event::End(TagEnd::Emphasis) => italic = italic.saturating_sub(1),
            // Raw HTML is shown as the text it is: nothing is ever injected.
            Event::Text(t) | Event::Html(t) | Event::InlineHtml(t) => {
                push(&mut spans, &t, bold > 0, italic > 0, false)
            }
            Event::Code(t) => push(&mut spans, &t, bold > 0, italic > 0, true),
            Event::SoftBreak | Event::HardBreak => {
                push(&mut spans, " ", bold > 0, italic > 0, false)
            }
            Event::End(TagEnd::Heading(level)) => {
                out.push(Block::Heading(level as u8, std::mem::take(&mut spans)))
            }
            Event::End(TagEnd::Paragraph | TagEnd::HtmlBlock) if lists == 0 => {
                if let Some(last) = spans.last_mut() {
                    last.text.truncate(last.text.trim_end().len());
                }
                out.push(Block::Paragraph(std::mem::take(&mut spans)))
            }
            Event::Start(Tag::List(_)) => {
                // A nested list ends the text of the item it sits in.
                if !spans.is_empty() {
                    items.push(std::mem::take(&mut spans));
                }
                lists += 1;
            }
            Event::End(TagEnd::Item) if !spans.is_empty() => items.push(std::mem::take(&mut spans)),
            Event::End(TagEnd::List(_)) => {
                lists = lists.saturating_sub(1);
                if lists == 0 {
                    out.push(Block::List(std::mem::take(&mut items)));
                }
            }
            Event::End(TagEnd::TableCell) => row.push(std::mem::take(&mut spans)),
            Event::End(TagEnd::TableHead) => header = std::mem::take(&mut row),
            Event::End(TagEnd::TableRow) => rows.push(std::mem::take(&mut row)),
            Event::End(TagEnd::Table) => out.push(Block::Table(
                std::mem::take(&mut header),
                std::mem::take(&mut rows),
            )),
            _ => {}
        }
    }
    out
}

/// Appends text to the last span when its style matches, else as a new span.
fn push(spans: &mut Vec<Span>, text: &str, bold: bool, italic: bool, code: bool) {
    match spans.last_mut() {
        Some(s) if (s.bold, s.italic, s.code) == (bold, italic, code) && !code => {
            s.text.push_str(text)
        }
        _ => spans.push(Span {
            text: text.to_string(),
            bold,
            italic,
            code,
        }),
    }
}

/// The plain text of spans.
pub fn plain(spans: &[Span]) -> String {
    spans.iter().map(|s| s.text.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_model_export_writes() {
        let md = "# Title\n\nSome **bold** and `code`,\nwrapped.\n\n| model | RMSE |\n|---|---:|\n| a | 0.1 |\n| *b* | 0.2 |\n\n- one\n- two\n\n```text\nx = 1\n```\n";
        let b = parse(md);
        assert_eq!(b.len(), 5, "{b:#?}");
        assert_eq!(b[0], Block::Heading(1, inline("Title")));
        let Block::Paragraph(p) = &b[1] else {
            panic!("{:?}", b[1])
        };
        assert_eq!(plain(p), "Some bold and code, wrapped.");
        assert!(p.iter().any(|s| s.bold && s.text == "bold"));
        assert!(p.iter().any(|s| s.code && s.text == "code"));
        let Block::Table(h, rows) = &b[2] else {
            panic!("{:?}", b[2])
        };
        assert_eq!(h.len(), 2);
        assert_eq!(rows.len(), 2);
        assert!(rows[1][0][0].italic);
        assert_eq!(b[3], Block::List(vec![inline("one"), inline("two")]));
        assert_eq!(b[4], Block::Code("x = 1".into()));
    }

    #[test]
    fn unmatched_markers_stay_text() {
        assert_eq!(plain(&inline("2 * 3 and a ` tick")), "2 * 3 and a ` tick");
        assert_eq!(inline("a ** b").len(), 1);
        assert_eq!(
            plain(&inline("see [fuzz.md](fuzz.md) now")),
            "see fuzz.md now"
        );
        assert_eq!(plain(&inline("[x] y")), "[x] y");
    }

    #[test]
    fn raw_html_and_images_read_as_text() {
        let b = parse("<script>alert(1)</script>\n\nSee <b>this</b> ![plot](x.png).\n");
        let text: Vec<String> = b
            .iter()
            .map(|b| match b {
                Block::Paragraph(s) => plain(s),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(text, ["<script>alert(1)</script>", "See <b>this</b> plot."]);
    }

    #[test]
    fn a_code_span_inside_a_link_stays_code() {
        let s = inline("results: [`fuzz.md`](fuzz.md), from");
        assert_eq!(plain(&s), "results: fuzz.md, from");
        assert!(s.iter().any(|x| x.code && x.text == "fuzz.md"));
    }

    #[test]
    fn every_shipped_report_parses_to_tables() {
        for f in [
            "evaluation.md",
            "ncf-training.md",
            "user-emotion.md",
            "emotion.md",
            "heart.md",
            "situnes-ranking.md",
            "sequential.md",
        ] {
            let path = format!("{}/../public/report/{f}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap();
            let blocks = parse(&text);
            assert!(
                blocks
                    .iter()
                    .any(|b| matches!(b, Block::Table(_, r) if !r.is_empty())),
                "{f} has no table"
            );
            assert!(
                matches!(blocks[0], Block::Heading(1, _)),
                "{f} starts with {:?}",
                blocks[0]
            );
        }
    }
}
