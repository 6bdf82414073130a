//! Pictures: the rank-frequency curve with its Zipf line, and bench
//! throughput as bars. SVG or PNG by the file's extension. The font is
//! embedded (DejaVu Sans, `assets/`), since a clean machine has none and a
//! bitmap backend without a font cannot draw text.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

const FONT: &str = "sans-serif";
const SIZE: (u32, u32) = (1200, 800);
/// At most about this many points are drawn (evenly spaced in log rank, the
/// first 100 ranks always), so a million-word vocabulary stays a small file.
const MAX_POINTS: usize = 2000;

/// The rank-frequency picture.
pub struct RankFrequency<'a> {
    /// Rows in rank order (most frequent first).
    pub rows: &'a [(&'a str, u64)],
    pub fit: Option<Fit>,
    pub title: String,
    /// How many of the top words are written beside their points.
    pub labels: usize,
}

/// A fitted line: frequency = exp(intercept) / rank^exponent over ranks 1..=ranks.
#[derive(Debug, Clone, Copy)]
pub struct Fit {
    pub exponent: f64,
    pub intercept: f64,
    pub r_squared: f64,
    pub ranks: usize,
}

/// A bar chart (bench throughput).
pub struct Bars<'a> {
    pub title: String,
    /// The value axis label, such as "MB/s".
    pub unit: String,
    /// (label, value) in display order.
    pub bars: &'a [(String, f64)],
}

/// Draws `plot` to `path` (`.svg` or `.png`). An empty table is an error:
/// there is no curve to draw.
pub fn rank_frequency(path: &Path, plot: &RankFrequency<'_>) -> Result<(), String> {
    if plot.rows.is_empty() {
        return Err(format!("cannot plot {}: no words were counted", path.display()));
    }
    render(path, |root| rank_frequency_on(root, plot), |root| rank_frequency_on(root, plot))
}

/// Draws `plot` to `path` (`.svg` or `.png`).
pub fn bars(path: &Path, plot: &Bars<'_>) -> Result<(), String> {
    if plot.bars.is_empty() {
        return Err(format!("cannot plot {}: no bars", path.display()));
    }
    render(path, |root| bars_on(root, plot), |root| bars_on(root, plot))
}

type Area<DB> = DrawingArea<DB, Shift>;
type Drawn = Result<(), String>;

/// Picks the backend by extension and draws with the matching function.
fn render(
    path: &Path,
    svg: impl FnOnce(&Area<SVGBackend<'_>>) -> Drawn,
    png: impl FnOnce(&Area<BitMapBackend<'_>>) -> Drawn,
) -> Drawn {
    register_font()?;
    let failed = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => {
            let root = SVGBackend::new(path, SIZE).into_drawing_area();
            svg(&root).map_err(|e| failed(&e))?;
            root.present().map_err(|e| failed(&e))
        }
        Some("png") => {
            let root = BitMapBackend::new(path, SIZE).into_drawing_area();
            png(&root).map_err(|e| failed(&e))?;
            root.present().map_err(|e| failed(&e))
        }
        _ => Err(format!("cannot plot {}: name a .svg or .png file", path.display())),
    }
}

fn register_font() -> Drawn {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let font: &'static [u8] = include_bytes!("../assets/DejaVuSans.ttf");
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, font).is_ok());
    if ok { Ok(()) } else { Err("the embedded font cannot be read".into()) }
}

/// `render` puts "cannot write PATH: " in front, so messages stay one line.
fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Long words would run off the picture.
fn short(word: &str) -> String {
    let mut s: String = word.chars().take(30).collect();
    if s.len() < word.len() {
        s.push('…');
    }
    s
}

/// `text`, cut (with an ellipsis) until it is at most `width` pixels wide.
fn fitted<DB: DrawingBackend>(
    root: &Area<DB>,
    text: &str,
    style: &TextStyle<'_>,
    width: i64,
) -> Result<String, DrawingAreaErrorKind<DB::ErrorType>> {
    let chars: Vec<char> = text.chars().collect();
    for keep in (1..=chars.len()).rev() {
        let mut s: String = chars[..keep].iter().collect();
        if keep < chars.len() {
            s.push('…');
        }
        if i64::from(root.estimate_text_size(&s, style)?.0) <= width {
            return Ok(s);
        }
    }
    Ok(chars.first().map(|c| format!("{c}…")).unwrap_or_default())
}

/// The ranks drawn: the first 100, then evenly spaced in log rank.
fn sampled(n: usize) -> Vec<usize> {
    let mut ranks: Vec<usize> = (1..=n.min(100)).collect();
    if n > 100 {
        let steps = MAX_POINTS - 100;
        let (lo, hi) = ((100f64).ln(), (n as f64).ln());
        for i in 1..=steps {
            let r = (lo + (hi - lo) * i as f64 / steps as f64).exp().round() as usize;
            if r > *ranks.last().unwrap_or(&0) && r <= n {
                ranks.push(r);
            }
        }
    }
    ranks
}

fn rank_frequency_on<DB: DrawingBackend>(root: &Area<DB>, plot: &RankFrequency<'_>) -> Drawn {
    root.fill(&WHITE).map_err(err)?;
    let n = plot.rows.len();
    let top = plot.rows[0].1.max(1) as f64;
    let low = plot.rows[n - 1].1.max(1) as f64;
    // A log axis spanning less than a decade gets no tick labels at all.
    let y_low = (low * 0.5).min(top / 5.0).max(0.5);
    let mut chart = ChartBuilder::on(root)
        .caption(&plot.title, (FONT, 30))
        .margin(24)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d((0.8f64..(n as f64 * 1.5).max(12.0)).log_scale(), (y_low..top * 2.0).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("rank")
        .y_desc("frequency")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((FONT, 18))
        .axis_desc_style((FONT, 22))
        .draw()
        .map_err(err)?;
    let points = sampled(n).into_iter().map(|r| (r as f64, plot.rows[r - 1].1.max(1) as f64));
    chart
        .draw_series(points.map(|p| Circle::new(p, 3, BLUE.mix(0.6).filled())))
        .map_err(err)?
        .label(format!("{} {}", crate::report::group_thousands(n as u64), if n == 1 { "word" } else { "words" }))
        .legend(|(x, y)| Circle::new((x + 10, y), 4, BLUE.filled()));
    if let Some(fit) = plot.fit {
        let ranks = fit.ranks.max(2) as f64;
        let line = (0..=100).map(|i| {
            let r = ranks.powf(i as f64 / 100.0);
            (r, (fit.intercept - fit.exponent * r.ln()).exp())
        });
        chart
            .draw_series(LineSeries::new(line, RED.stroke_width(3)))
            .map_err(err)?
            .label(format!(
                "Zipf fit: s = {:.2}, R² = {:.3} (least squares, ranks 1-{})",
                fit.exponent, fit.r_squared, fit.ranks
            ))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(3)));
    }
    let font: TextStyle = (FONT, 18).into();
    let mut labels = Vec::new();
    for (i, (w, c)) in plot.rows.iter().take(plot.labels).enumerate() {
        let text = short(w);
        let (w, h) = root.estimate_text_size(&text, &font).map_err(err)?;
        let (w, h) = (w as i32, h as i32);
        // Alternate above and below the curve so neighbours do not collide; a
        // pale box keeps a word readable where the fitted line crosses it.
        let dy = if i % 2 == 0 { -h - 4 } else { 6 };
        labels.push(
            EmptyElement::at(((i + 1) as f64, (*c).max(1) as f64))
                + Rectangle::new([(4, dy - 1), (8 + w, dy + h + 1)], WHITE.mix(0.75).filled())
                + Text::new(text, (6, dy), font.clone()),
        );
    }
    chart.draw_series(labels).map_err(err)?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, 20))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(err)
}

fn bars_on<DB: DrawingBackend>(root: &Area<DB>, plot: &Bars<'_>) -> Drawn {
    root.fill(&WHITE).map_err(err)?;
    let max = plot.bars.iter().map(|b| b.1).fold(0.0, f64::max).max(1e-9);
    let n = plot.bars.len();
    // Each label gets its bar's slot; longer ones are cut so neighbours never overlap.
    let label_style: TextStyle = (FONT, 18).into();
    let slot = (SIZE.0 as i64 - 160) / n as i64 - 12;
    let mut names = Vec::with_capacity(n);
    for (name, _) in plot.bars {
        names.push(fitted(root, &short(name), &label_style, slot).map_err(err)?);
    }
    let mut chart = ChartBuilder::on(root)
        .caption(&plot.title, (FONT, 30))
        .margin(24)
        .x_label_area_size(60)
        .y_label_area_size(90)
        // A discrete range holds both its ends: n bars are 0..n - 1.
        .build_cartesian_2d((0..n - 1).into_segmented(), 0f64..max * 1.15)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&|x| match x {
            SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .y_desc(plot.unit.as_str())
        .y_label_formatter(&|y| if max < 10.0 { format!("{y:.2}") } else { format!("{y:.0}") })
        .label_style(label_style.clone())
        .axis_desc_style((FONT, 22))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(plot.bars.iter().enumerate().map(|(i, b)| {
            let mut bar = Rectangle::new(
                [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), b.1)],
                Palette99::pick(i).mix(0.85).filled(),
            );
            bar.set_margin(0, 0, 30, 30);
            bar
        }))
        .map_err(err)?;
    let value_style = TextStyle::from((FONT, 20).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    chart
        .draw_series(plot.bars.iter().enumerate().map(|(i, b)| {
            EmptyElement::at((SegmentValue::CenterOf(i), b.1))
                + Text::new(format!("{:.1}", b.1), (0, -6), value_style.clone())
        }))
        .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::group_thousands;

    fn zipf(n: usize) -> Vec<(String, u64)> {
        let words = ["the", "of", "and", "été", "δρόμος", "a", "to", "in", "he", "was"];
        (1..=n)
            .map(|r| (words.get(r - 1).map_or(format!("w{r}"), |w| w.to_string()), (100_000 / r) as u64 + 1))
            .collect()
    }

    fn png_size(bytes: &[u8]) -> (u32, u32) {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
        (be(16), be(20))
    }

    #[test]
    fn rank_frequency_pictures_in_both_formats() {
        let dir = tempfile::tempdir().unwrap();
        let rows = zipf(5000);
        let rows: Vec<(&str, u64)> = rows.iter().map(|(w, n)| (w.as_str(), *n)).collect();
        let fit = Fit { exponent: 1.0, intercept: 100_000f64.ln(), r_squared: 0.999, ranks: 1000 };
        let plot = RankFrequency { rows: &rows, fit: Some(fit), title: "Rank and frequency".into(), labels: 10 };
        let png = dir.path().join("z.PNG");
        rank_frequency(&png, &plot).unwrap();
        assert_eq!(png_size(&std::fs::read(&png).unwrap()), SIZE);
        let svg = dir.path().join("z.svg");
        rank_frequency(&svg, &plot).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        for needle in ["Rank and frequency", "Zipf fit: s = 1.00", "δρόμος", "frequency"] {
            assert!(text.contains(needle), "{needle} missing");
        }
        // Edge cases: one row, equal counts, nothing.
        let one = [("only", 3u64)];
        rank_frequency(
            &dir.path().join("one.png"),
            &RankFrequency { rows: &one, fit: None, title: "one".into(), labels: 5 },
        )
        .unwrap();
        let flat = [("a", 2u64), ("b", 2), ("c", 2)];
        rank_frequency(
            &dir.path().join("flat.svg"),
            &RankFrequency { rows: &flat, fit: None, title: "flat".into(), labels: 5 },
        )
        .unwrap();
        let none = RankFrequency { rows: &[], fit: None, title: "none".into(), labels: 5 };
        assert!(rank_frequency(&dir.path().join("none.png"), &none).unwrap_err().contains("no words"));
        assert!(rank_frequency(&dir.path().join("z.jpg"), &plot).unwrap_err().contains(".svg or .png"));
        // Errors name the file and stay on one line.
        for name in ["missing/z.png", "missing/z.svg"] {
            let e = rank_frequency(&dir.path().join(name), &plot).unwrap_err();
            assert!(e.starts_with("cannot write") && e.contains("z.") && !e.contains('\n'), "{e}");
        }
        assert_eq!(
            (group_thousands(23144), group_thousands(999), group_thousands(1_000_000)),
            ("23,144".into(), "999".into(), "1,000,000".into())
        );
    }

    #[test]
    fn bar_pictures_in_both_formats() {
        let dir = tempfile::tempdir().unwrap();
        let bars_ = vec![
            ("cpu 1 thread".to_string(), 180.5),
            ("cpu 2 threads".to_string(), 320.0),
            ("gpu llvmpipe".to_string(), 31.4),
        ];
        let plot = Bars { title: "Throughput".into(), unit: "MB/s".into(), bars: &bars_ };
        let one = [("only".to_string(), 5.0)];
        bars(&dir.path().join("one.png"), &Bars { title: "one".into(), unit: "MB/s".into(), bars: &one }).unwrap();
        let png = dir.path().join("b.png");
        bars(&png, &plot).unwrap();
        assert_eq!(png_size(&std::fs::read(&png).unwrap()), SIZE);
        let svg = dir.path().join("b.svg");
        bars(&svg, &plot).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("Throughput") && text.contains("320.0") && text.contains("cpu 2 threads"));
    }
}
