//! `firefoxProfile`: a profile in the Firefox Profiler's processed format (fxprof-processed-profile),
//! written off the JS thread.

use fxprof_processed_profile::CategoryColor;
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;

/// The profile model handed to `firefoxProfile` (columns of `Profile` in lib/profile/model.ts).
#[napi(object)]
pub struct FxInput {
    /// Shown as the product name, e.g. `node app.js`.
    pub product: String,
    /// The processes: ids and names (each thread names its process by id in the thread columns).
    pub process_pid: Vec<u32>,
    pub process_name: Vec<String>,
    /// Profile start, ms since the Unix epoch; sample times are ns after it.
    pub start_time_ms: f64,
    /// Sampling interval in ms (1 / freq), for the profiler's display.
    pub interval_ms: f64,
    /// Whether weights count samples of a clock (`true`) or events (`false`: weights are the periods).
    pub time_based: bool,
    pub frame_label: Vec<String>,
    /// `js`, `builtin`, `native`, `kernel` or `unknown`.
    pub frame_kind: Vec<String>,
    /// Each frame's source file (JS script, or DWARF's file of a native frame), `''` when unknown.
    pub frame_file: Vec<String>,
    /// 1-based line and column in `frame_file`, 0 when unknown.
    pub frame_line: Vec<u32>,
    pub frame_column: Vec<u32>,
    pub stack_parent: Vec<i32>,
    pub stack_frame: Vec<i32>,
    pub sample_stack: Vec<i32>,
    pub sample_thread: Vec<i32>,
    pub sample_time_ns: Vec<f64>,
    pub sample_weight: Vec<f64>,
    pub thread_tid: Vec<u32>,
    pub thread_name: Vec<String>,
    /// Each thread's process id (one of the processes' ids).
    pub thread_pid: Vec<u32>,
}

/// Builds a Firefox Profiler processed profile (JSON) off the JS thread.
pub struct FirefoxTask {
    input: Option<FxInput>,
}

/// The processed profile as JSON, or the status and message of what was wrong with the input (a
/// plain error: no napi value is made here, so `cargo test` runs it outside Node).
fn firefox_json(i: FxInput) -> std::result::Result<String, (Status, String)> {
    use fxprof_processed_profile::{
        CategoryPairHandle, CpuDelta, Frame, FrameFlags, FrameInfo, Profile, ReferenceTimestamp, SamplingInterval, StackHandle, Timestamp,
    };
    let bad = |m: &str| (Status::InvalidArg, m.to_string());
    let nf = i.frame_label.len();
    if i.frame_kind.len() != nf
        || i.frame_file.len() != nf
        || i.frame_line.len() != nf
        || i.frame_column.len() != nf
        || i.stack_parent.len() != i.stack_frame.len()
    {
        return Err(bad("frame and stack columns differ in length"));
    }
    let n = i.sample_stack.len();
    if i.sample_thread.len() != n
        || i.sample_time_ns.len() != n
        || i.sample_weight.len() != n
        || i.thread_tid.len() != i.thread_name.len()
        || i.thread_pid.len() != i.thread_tid.len()
        || i.process_pid.len() != i.process_name.len()
    {
        return Err(bad("sample or thread columns differ in length"));
    }
    let interval = SamplingInterval::from_nanos((i.interval_ms * 1e6).max(1.0) as u64);
    let mut p = Profile::new(&i.product, ReferenceTimestamp::from_millis_since_unix_epoch(i.start_time_ms), interval);
    p.set_symbolicated(true);
    p.set_os_name("Linux");
    let cat = |p: &mut Profile, name: &str, c: CategoryColor| p.add_category(name, c).into();
    let js = cat(&mut p, "JavaScript", CategoryColor::Yellow);
    let builtin = cat(&mut p, "V8 builtin", CategoryColor::Green);
    let native = cat(&mut p, "Native", CategoryColor::Blue);
    let kernel = cat(&mut p, "Kernel", CategoryColor::Orange);
    let unknown = cat(&mut p, "Unknown", CategoryColor::Gray);
    // Off-CPU states get their categories when the profile has them (lib/profile/offcpu).
    let mut states: [Option<CategoryPairHandle>; 3] = [None, None, None];
    // One process per pid, named after it; its main thread (tid = pid) is shown under the process's name.
    let processes: Vec<_> = i
        .process_pid
        .iter()
        .zip(&i.process_name)
        .map(|(&pid, name)| p.add_process(name, pid, Timestamp::from_millis_since_reference(0.0)))
        .collect();
    let mut threads = Vec::with_capacity(i.thread_tid.len());
    for ((&tid, name), &pid) in i.thread_tid.iter().zip(&i.thread_name).zip(&i.thread_pid) {
        let k = i.process_pid.iter().position(|&p| p == pid).ok_or_else(|| bad("thread process not in the processes"))?;
        let t = p.add_thread(processes[k], tid, Timestamp::from_millis_since_reference(0.0), tid == pid);
        p.set_thread_name(t, name);
        threads.push(t);
    }
    // Stacks are interned per thread (the format keeps one stack table per thread).
    let mut memo: Vec<std::collections::HashMap<i32, StackHandle>> = vec![Default::default(); threads.len()];
    let frame_count = i.frame_label.len() as i32;
    for s in 0..n {
        let t = usize::try_from(i.sample_thread[s]).ok().filter(|&t| t < threads.len()).ok_or_else(|| bad("sample thread out of range"))?;
        let th = threads[t];
        let leaf = i.sample_stack[s];
        // Walk up to the first stack already interned for this thread, then intern downwards.
        let mut chain = Vec::new();
        let mut cur = leaf;
        while cur >= 0 && !memo[t].contains_key(&cur) {
            if cur as usize >= i.stack_parent.len() {
                return Err(bad("stack id out of range"));
            }
            chain.push(cur);
            cur = i.stack_parent[cur as usize];
        }
        let mut parent = if cur >= 0 { memo[t].get(&cur).copied() } else { None };
        for &sid in chain.iter().rev() {
            let f = i.stack_frame[sid as usize];
            if f < 0 || f >= frame_count {
                return Err(bad("frame id out of range"));
            }
            let state = thread_state(&i.frame_label[f as usize]);
            let (category, flags) = match i.frame_kind[f as usize].as_str() {
                _ if state.is_some() => {
                    let (k, name, color) = state.unwrap();
                    (*states[k].get_or_insert_with(|| p.add_category(name, color).into()), FrameFlags::empty())
                }
                "js" => (js, FrameFlags::IS_JS),
                "builtin" => (builtin, FrameFlags::IS_RELEVANT_FOR_JS),
                "native" => (native, FrameFlags::empty()),
                "kernel" => (kernel, FrameFlags::empty()),
                _ => (unknown, FrameFlags::empty()),
            };
            let label = p.intern_string(&i.frame_label[f as usize]);
            let fh = p.intern_frame(th, FrameInfo { frame: Frame::Label(label), category_pair: category, flags });
            let sh = p.intern_stack(th, parent, fh);
            memo[t].insert(sid, sh);
            parent = Some(sh);
        }
        let stack = if leaf >= 0 { memo[t].get(&leaf).copied() } else { None };
        let ts = Timestamp::from_nanos_since_reference(i.sample_time_ns[s].max(0.0) as u64);
        let weight = if i.time_based { 1 } else { i.sample_weight[s].clamp(1.0, i32::MAX as f64) as i32 };
        p.add_sample(th, ts, stack, CpuDelta::ZERO, weight);
    }
    let mut json = serde_json::to_value(&p).map_err(|e| (Status::GenericFailure, e.to_string()))?;
    fill_func_sources(&mut json, &i);
    serde_json::to_string(&json).map_err(|e| (Status::GenericFailure, e.to_string()))
}

/// Fills each thread's `funcTable` `fileName` (a `stringArray` index), `lineNumber` and
/// `columnNumber` (1-based) from the frames' sources: the crate writes them null. A function is
/// found by its name, which is its frame's label (a JS label holds its location, so two functions
/// of one name in different places stay apart).
fn fill_func_sources(json: &mut serde_json::Value, i: &FxInput) {
    use serde_json::Value;
    let mut by_label: std::collections::HashMap<&str, usize> = Default::default();
    for (f, label) in i.frame_label.iter().enumerate() {
        if !i.frame_file[f].is_empty() {
            by_label.entry(label.as_str()).or_insert(f);
        }
    }
    let Some(threads) = json.get_mut("threads").and_then(Value::as_array_mut) else { return };
    for th in threads {
        let Some(Value::Array(strings)) = th.get("stringArray").cloned() else { continue };
        let mut index: std::collections::HashMap<String, usize> =
            strings.iter().enumerate().filter_map(|(k, v)| v.as_str().map(|s| (s.to_string(), k))).collect();
        let mut strings = strings;
        let names: Vec<Option<u64>> = th["funcTable"]["name"].as_array().map(|a| a.iter().map(Value::as_u64).collect()).unwrap_or_default();
        let (mut file, mut line, mut column) = (Vec::new(), Vec::new(), Vec::new());
        for name in names {
            let f = name.and_then(|k| strings.get(k as usize)).and_then(Value::as_str).and_then(|l| by_label.get(l)).copied();
            let Some(f) = f else {
                file.push(Value::Null);
                line.push(Value::Null);
                column.push(Value::Null);
                continue;
            };
            let k = *index.entry(i.frame_file[f].clone()).or_insert_with(|| {
                strings.push(Value::String(i.frame_file[f].clone()));
                strings.len() - 1
            });
            file.push(k.into());
            let n = |v: u32| if v > 0 { Value::from(v) } else { Value::Null };
            line.push(n(i.frame_line[f]));
            column.push(n(i.frame_column[f]));
        }
        th["funcTable"]["fileName"] = Value::Array(file);
        th["funcTable"]["lineNumber"] = Value::Array(line);
        th["funcTable"]["columnNumber"] = Value::Array(column);
        th["stringArray"] = Value::Array(strings);
    }
}

impl Task for FirefoxTask {
    type Output = String;
    type JsValue = String;
    fn compute(&mut self) -> Result<String> {
        let input = self.input.take().ok_or_else(|| Error::new(Status::GenericFailure, "task ran twice".to_string()))?;
        firefox_json(input).map_err(|(status, message)| Error::new(status, message))
    }
    fn resolve(&mut self, _env: Env, output: String) -> Result<String> {
        Ok(output)
    }
}

/// Writes a profile in the Firefox Profiler's processed format (JSON; open it at profiler.firefox.com), threads as threads.
#[napi(ts_return_type = "Promise<string>")]
pub fn firefox_profile(input: FxInput) -> AsyncTask<FirefoxTask> {
    AsyncTask::new(FirefoxTask { input: Some(input) })
}

/// The thread state an off-CPU profile puts on top of each waiting stack (`[blocked]`, `[run queue]`,
/// `[idle]`, lib/profile/offcpu): its own category, so that the Firefox Profiler colours blocked,
/// run-queue and idle time apart in the activity graph and the call tree.
fn thread_state(label: &str) -> Option<(usize, &'static str, CategoryColor)> {
    match label.strip_suffix(" [kernel]").unwrap_or(label) {
        "[blocked]" => Some((0, "Blocked", CategoryColor::Red)),
        "[run queue]" => Some((1, "Run queue", CategoryColor::Purple)),
        "[idle]" => Some((2, "Idle", CategoryColor::Transparent)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    //! The Firefox writer on a fixed input: the JSON read back as the Firefox Profiler reads it
    //! (per-thread stack, frame, func and string tables), and its refusals of inconsistent columns.

    use super::*;
    use serde_json::Value;

    /// Two threads; frames: 0 node::Start (native), 1 main (js), 2 hot (js), 3 do_syscall_64 (kernel),
    /// 4 Builtins_ArrayMap (builtin); stacks: 0 [0], 1 [0 1], 2 [0 1 2], 3 [0 1 2 3], 4 [4].
    fn input(time_based: bool) -> FxInput {
        FxInput {
            product: "fixture".into(),
            process_pid: vec![100, 200],
            process_name: vec!["node".into(), "worker-proc".into()],
            start_time_ms: 1_700_000_000_000.0,
            interval_ms: 1.0,
            time_based,
            frame_label: ["node::Start", "~main a.js:1:1", "*hot a.js:5:3", "do_syscall_64 [kernel]", "Builtins_ArrayMap"]
                .map(String::from)
                .to_vec(),
            frame_kind: ["native", "js", "js", "kernel", "builtin"].map(String::from).to_vec(),
            frame_file: ["node.cc", "a.js", "a.js", "", ""].map(String::from).to_vec(),
            frame_line: vec![12, 1, 5, 0, 0],
            frame_column: vec![0, 1, 3, 0, 0],
            stack_parent: vec![-1, 0, 1, 2, -1],
            stack_frame: vec![0, 1, 2, 3, 4],
            sample_stack: vec![2, 4, 3, 1, -1],
            sample_thread: vec![0, 1, 0, 0, 0],
            sample_time_ns: vec![0.0, 500_000.0, 1_000_000.0, 2_000_000.0, 3_000_000.0],
            sample_weight: vec![100.0, 7.0, 250.0, 100.0, 100.0],
            thread_tid: vec![100, 101],
            thread_name: vec!["node (main)".into(), "node (libuv pool)".into()],
            thread_pid: vec![100, 100],
        }
    }

    /// Each sample of thread `t`: (time in ms, weight, stack root first as (name, category, isJS)).
    fn samples(p: &Value, t: usize) -> Vec<(f64, i64, Vec<(String, String, bool)>)> {
        let th = &p["threads"][t];
        let cats = &p["meta"]["categories"];
        let s = &th["samples"];
        let mut time = 0.0;
        (0..s["length"].as_u64().unwrap() as usize)
            .map(|i| {
                time += s["timeDeltas"][i].as_f64().unwrap();
                let weight = s["weight"].get(i).and_then(Value::as_i64).unwrap_or(1);
                let mut stack = Vec::new();
                let mut at = s["stack"][i].as_u64();
                while let Some(k) = at {
                    let frame = th["stackTable"]["frame"][k as usize].as_u64().unwrap() as usize;
                    let func = th["frameTable"]["func"][frame].as_u64().unwrap() as usize;
                    let name = th["stringArray"][th["funcTable"]["name"][func].as_u64().unwrap() as usize].as_str().unwrap();
                    let cat = cats[th["frameTable"]["category"][frame].as_u64().unwrap() as usize]["name"].as_str().unwrap();
                    stack.insert(0, (name.to_string(), cat.to_string(), th["funcTable"]["isJS"][func].as_bool().unwrap()));
                    at = th["stackTable"]["prefix"][k as usize].as_u64();
                }
                (time, weight, stack)
            })
            .collect()
    }

    fn f(name: &str, cat: &str, js: bool) -> (String, String, bool) {
        (name.to_string(), cat.to_string(), js)
    }

    #[test]
    fn threads_samples_and_stacks_read_back() {
        let p: Value = serde_json::from_str(&firefox_json(input(true)).unwrap()).unwrap();
        assert_eq!(p["meta"]["product"], "fixture");
        assert_eq!(p["meta"]["startTime"], 1_700_000_000_000.0);
        assert_eq!(p["meta"]["interval"], 1.0);
        let threads: Vec<(&str, &str, &str, bool)> = p["threads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (t["name"].as_str().unwrap(), t["tid"].as_str().unwrap(), t["pid"].as_str().unwrap(), t["isMainThread"].as_bool().unwrap())
            })
            .collect();
        // The main thread (tid = pid) is shown under its process's name.
        assert_eq!(threads, [("node", "100", "100", true), ("node (libuv pool)", "101", "100", false)]);
        let (start, main, hot) =
            (f("node::Start", "Native", false), f("~main a.js:1:1", "JavaScript", true), f("*hot a.js:5:3", "JavaScript", true));
        // Time-based (a clock): every sample weighs 1.
        assert_eq!(
            samples(&p, 0),
            [
                (0.0, 1, vec![start.clone(), main.clone(), hot.clone()]),
                (1.0, 1, vec![start.clone(), main.clone(), hot, f("do_syscall_64 [kernel]", "Kernel", false)]),
                (2.0, 1, vec![start, main]),
                (3.0, 1, vec![]),
            ]
        );
        assert_eq!(samples(&p, 1), [(0.5, 1, vec![f("Builtins_ArrayMap", "V8 builtin", false)])]);
        // Stacks are interned per thread: thread 0 has 4 stacks (its prefixes), thread 1 one.
        assert_eq!(p["threads"][0]["stackTable"]["length"], 4);
        assert_eq!(p["threads"][1]["stackTable"]["length"], 1);
    }

    #[test]
    fn functions_carry_their_source_and_threads_their_process() {
        let mut i = input(true);
        i.thread_tid = vec![100, 201];
        i.thread_pid = vec![100, 200];
        let p: Value = serde_json::from_str(&firefox_json(i).unwrap()).unwrap();
        let threads: Vec<(&str, &str, &str, bool)> = p["threads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["name"].as_str().unwrap(),
                    t["processName"].as_str().unwrap(),
                    t["pid"].as_str().unwrap(),
                    t["isMainThread"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(threads, [("node", "node", "100", true), ("node (libuv pool)", "worker-proc", "200", false)]);
        // Each function's file (through the thread's string table), line and column, as the profiler reads them.
        let sources = |t: usize| {
            let th = &p["threads"][t];
            let ft = &th["funcTable"];
            let s = |k: &Value| k.as_u64().map(|k| th["stringArray"][k as usize].as_str().unwrap().to_string());
            (0..ft["length"].as_u64().unwrap() as usize)
                .map(|f| (s(&ft["name"][f]).unwrap(), s(&ft["fileName"][f]), ft["lineNumber"][f].as_u64(), ft["columnNumber"][f].as_u64()))
                .collect::<Vec<_>>()
        };
        let mut main = sources(0);
        main.sort();
        assert_eq!(
            main,
            [
                ("*hot a.js:5:3".to_string(), Some("a.js".to_string()), Some(5), Some(3)),
                ("do_syscall_64 [kernel]".to_string(), None, None, None),
                ("node::Start".to_string(), Some("node.cc".to_string()), Some(12), None),
                ("~main a.js:1:1".to_string(), Some("a.js".to_string()), Some(1), Some(1)),
            ]
        );
        assert_eq!(sources(1), [("Builtins_ArrayMap".to_string(), None, None, None)]);
    }

    #[test]
    fn off_cpu_states_have_their_own_categories() {
        // Frame 3 as an off-CPU profile writes its state on top of a waiting stack.
        let mut i = input(true);
        i.frame_label[3] = "[blocked] [kernel]".into();
        let p: Value = serde_json::from_str(&firefox_json(i).unwrap()).unwrap();
        let leaf = samples(&p, 0)[1].2.last().cloned().unwrap();
        assert_eq!(leaf, f("[blocked] [kernel]", "Blocked", false));
        let names: Vec<&str> = p["meta"]["categories"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"Blocked") && !names.contains(&"Idle"), "only the states the profile has: {names:?}");
        // A CPU profile gets none of them.
        let cpu: Value = serde_json::from_str(&firefox_json(input(true)).unwrap()).unwrap();
        assert!(!cpu["meta"]["categories"].as_array().unwrap().iter().any(|c| c["name"] == "Blocked"));
    }

    #[test]
    fn an_event_profile_weighs_samples_by_their_period() {
        let p: Value = serde_json::from_str(&firefox_json(input(false)).unwrap()).unwrap();
        let w = |t| samples(&p, t).into_iter().map(|s| s.1).collect::<Vec<_>>();
        assert_eq!(w(0), [100, 250, 100, 100]);
        assert_eq!(w(1), [7]);
    }

    #[test]
    fn inconsistent_columns_are_refused_with_the_reason() {
        let err = |change: fn(&mut FxInput)| {
            let mut i = input(true);
            change(&mut i);
            firefox_json(i).unwrap_err()
        };
        assert_eq!(err(|i| drop(i.frame_kind.pop())), (Status::InvalidArg, "frame and stack columns differ in length".into()));
        assert_eq!(err(|i| drop(i.sample_weight.pop())), (Status::InvalidArg, "sample or thread columns differ in length".into()));
        assert_eq!(err(|i| i.sample_thread[0] = 2), (Status::InvalidArg, "sample thread out of range".into()));
        assert_eq!(err(|i| i.sample_stack[0] = 5), (Status::InvalidArg, "stack id out of range".into()));
        assert_eq!(err(|i| i.stack_frame[2] = 9), (Status::InvalidArg, "frame id out of range".into()));
        assert_eq!(
            err(|i| {
                i.frame_line.pop();
            }),
            (Status::InvalidArg, "frame and stack columns differ in length".into())
        );
        assert_eq!(
            err(|i| {
                i.thread_pid.pop();
            }),
            (Status::InvalidArg, "sample or thread columns differ in length".into())
        );
        assert_eq!(err(|i| i.thread_pid[1] = 7), (Status::InvalidArg, "thread process not in the processes".into()));
    }
}
