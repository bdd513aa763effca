//! `flameGraph`: folded stacks drawn as an SVG flame graph by inferno, off the JS thread.

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;

/// Options of `flameGraph`.
#[napi(object)]
pub struct FlameGraphOptions {
    pub title: Option<String>,
    pub subtitle: Option<String>,
    /// What a sample's weight counts, e.g. `'ns'` or `'page faults'`.
    pub count_name: Option<String>,
    /// Pixel width; none: the SVG fits its window (`width="100%"`, boxes sized in percent).
    pub width: Option<u32>,
}

/// Draws folded stacks (`a;b;c 42` lines) as a self-contained, interactive flame graph SVG.
pub struct FlameGraphTask {
    folded: String,
    title: String,
    subtitle: Option<String>,
    count_name: String,
    width: Option<usize>,
}

impl Task for FlameGraphTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> Result<String> {
        use inferno::flamegraph::{color, Options};
        let mut opts = Options::default();
        opts.title = self.title.clone();
        opts.subtitle = self.subtitle.clone();
        opts.count_name = self.count_name.clone();
        opts.image_width = self.width;
        opts.colors = color::Palette::Multi(color::MultiPalette::Js);
        opts.deterministic = true;
        let mut out = Vec::new();
        inferno::flamegraph::from_lines(&mut opts, self.folded.lines(), &mut out)
            .map_err(|e| Error::new(Status::GenericFailure, format!("flame graph failed: {e}")))?;
        String::from_utf8(out).map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
    }

    fn resolve(&mut self, _env: Env, output: String) -> Result<String> {
        Ok(output)
    }
}

/// Draws a flame graph SVG from folded stacks, off the JS thread.
#[napi(ts_return_type = "Promise<string>")]
pub fn flame_graph(folded: String, options: Option<FlameGraphOptions>) -> AsyncTask<FlameGraphTask> {
    let o = options.unwrap_or(FlameGraphOptions { title: None, subtitle: None, count_name: None, width: None });
    AsyncTask::new(FlameGraphTask {
        folded,
        title: o.title.unwrap_or_else(|| "Flame Graph".into()),
        subtitle: o.subtitle,
        count_name: o.count_name.unwrap_or_else(|| "samples".into()),
        width: o.width.map(|w| w as usize),
    })
}
