//! The shipped evaluation reports (`public/report/*.md`, written by `model-export`) read as blocks
//! the app can draw without HTML injection: headings, paragraphs, lists and tables, with bold,
//! italic and code spans; links read as their text. Only the subset `model-export` writes is
//! understood; anything else reads as plain text.

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

/// Splits inline text into styled spans (`**`, `*`, `` ` ``; unmatched markers stay text).
pub fn inline(text: &str) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let (mut bold, mut italic) = (false, false);
    let mut buf = String::new();
    let flush = |buf: &mut String, out: &mut Vec<Span>, bold: bool, italic: bool, code: bool| {
        if !buf.is_empty() {
            out.push(Span {
                text: std::mem::take(buf),
                bold,
                italic,
                code,
            });
        }
    };
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            // A link reads as its text: the reports never send the reader off the page.
            if let Some((label, after)) = rest[1..].split_once("](") {
                if let Some(close) = after.find(')') {
                    if !label.contains(']') {
                        buf.push_str(label);
                        rest = &after[close + 1..];
                        continue;
                    }
                }
            }
        }
        if c == '`' {
            if let Some(end) = rest[1..].find('`') {
                flush(&mut buf, &mut out, bold, italic, false);
                buf.push_str(&rest[1..1 + end]);
                flush(&mut buf, &mut out, bold, italic, true);
                rest = &rest[end + 2..];
                continue;
            }
        } else if let Some(after) = rest.strip_prefix("**") {
            if bold || after.contains("**") {
                flush(&mut buf, &mut out, bold, italic, false);
                bold = !bold;
            } else {
                buf.push_str("**");
            }
            rest = after;
            continue;
        } else if c == '*' && (italic || rest[1..].contains('*')) {
            flush(&mut buf, &mut out, bold, italic, false);
            italic = !italic;
            rest = &rest[1..];
            continue;
        }
        buf.push(c);
        rest = &rest[c.len_utf8()..];
    }
    flush(&mut buf, &mut out, bold, italic, false);
    out
}

fn cells(line: &str) -> Vec<Vec<Span>> {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let t = t.strip_suffix('|').unwrap_or(t);
    t.split('|').map(|c| inline(c.trim())).collect()
}

fn is_rule(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('|') && t.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

/// Reads a report.
pub fn parse(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        let t = line.trim_start();
        if t.is_empty() {
            i += 1;
        } else if t.starts_with("```") {
            let mut code = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].trim_start().starts_with("```") {
                code.push(lines[i]);
                i += 1;
            }
            out.push(Block::Code(code.join("\n")));
            i += 1;
        } else if let Some(level) = (1..=6u8)
            .find(|&n| t.starts_with(&"#".repeat(n as usize)) && t[n as usize..].starts_with(' '))
        {
            out.push(Block::Heading(level, inline(t[level as usize..].trim())));
            i += 1;
        } else if t.starts_with('|') && i + 1 < lines.len() && is_rule(lines[i + 1]) {
            let header = cells(t);
            let mut rows = Vec::new();
            i += 2;
            while i < lines.len() && lines[i].trim_start().starts_with('|') {
                rows.push(cells(lines[i]));
                i += 1;
            }
            out.push(Block::Table(header, rows));
        } else if t.starts_with("- ") {
            let mut items = Vec::new();
            while i < lines.len() && lines[i].trim_start().starts_with("- ") {
                items.push(inline(lines[i].trim_start()[2..].trim()));
                i += 1;
            }
            out.push(Block::List(items));
        } else {
            let mut para = vec![t];
            i += 1;
            while i < lines.len() {
                let n = lines[i].trim();
                if n.is_empty()
                    || n.starts_with('#')
                    || n.starts_with('|')
                    || n.starts_with("- ")
                    || n.starts_with("```")
                {
                    break;
                }
                para.push(n);
                i += 1;
            }
            out.push(Block::Paragraph(inline(&para.join(" "))));
        }
    }
    out
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
