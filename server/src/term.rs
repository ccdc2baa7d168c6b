//! Drawing a workflow's progress on a terminal, shared by `trellis run` and the client commands.

use std::io::Write;

use engine::model::Workflow;

/// The `argo get`-style tree of a workflow, now.
pub fn render(wf: &Workflow, color: bool) -> String {
    let opts = engine::progress::RenderOptions {
        color,
        width: None,
        show_header: true,
    };
    engine::progress::render(wf, chrono::Utc::now(), &opts)
}

/// Redraws a block of text in place on a terminal.
#[derive(Default)]
pub struct Screen {
    lines: usize,
}

impl Screen {
    /// Replaces what was drawn last with `text`.
    pub fn draw(&mut self, text: &str) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        if self.lines > 0 {
            write!(out, "\x1b[{}A\x1b[J", self.lines)?;
        }
        write!(out, "{text}")?;
        out.flush()?;
        self.lines = text.lines().count();
        Ok(())
    }
}
