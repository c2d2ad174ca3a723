//! The command line as a member or operator uses it: the quick-start
//! console, one-off classification, and `check` on broken files.

mod copy_tree;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_boundary-bot"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd.env_remove("DISCORD_TOKEN");
    cmd
}

fn run_with_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn notice() -> String {
    let text =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("responses/notice.toml"))
            .unwrap();
    let value: toml::Value = toml::from_str(&text).unwrap();
    value["text"].as_str().unwrap().to_string()
}

#[test]
fn piped_chat_answers_a_typo_hug_question_with_the_notice() {
    let out = run_with_stdin(&["chat"], "can i hug my therepist\n");
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("## Hugs and touch in therapy"), "{stdout}");
    assert!(stdout.contains(&notice()), "{stdout}");
}

#[test]
fn quick_start_without_subcommand_runs_the_console() {
    let out = run_with_stdin(&[], "i want to kms\n/topics\n/quit\nnever read\n");
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("988"), "crisis resources: {stdout}");
    assert!(stdout.contains("Boundary topics"), "{stdout}");
    assert_eq!(stdout.matches(&notice()).count(), 2, "one notice per reply");
}

#[test]
fn classify_json_reports_crisis_for_kms() {
    let out = bin()
        .args(["classify", "--json", "i want to kms"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["label"], "crisis");
    assert_eq!(value["outcome"]["kind"], "crisis");
}

#[test]
fn classify_explain_lists_matched_terms() {
    let out = bin()
        .args(["classify", "--explain", "can i hug my therepist"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("physical-touch"), "{stdout}");
    assert!(
        stdout.contains("\"therapist\" ~ \"therepist\" (Typo)"),
        "{stdout}"
    );
}

#[test]
fn check_passes_on_the_shipped_content() {
    let out = bin().arg("check").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok:"));
}

/// A copy of the shipped responses/ in a temp dir, plus a config pointing at it.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("responses");
        let dst = dir.path().join("responses");
        copy_tree::copy_tree(&src, &dst);
        fs::write(
            dir.path().join("config.toml"),
            "responses_dir = \"responses\"\n",
        )
        .unwrap();
        Self { dir }
    }
    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn edit(&self, name: &str, f: impl FnOnce(String) -> String) {
        let path = self.file(name);
        let text = fs::read_to_string(&path).unwrap_or_default();
        fs::write(path, f(text)).unwrap();
    }
    /// Runs `check`; returns (success, the single stderr line).
    fn check(&self) -> (bool, String) {
        let out = bin()
            .args(["check", "--config"])
            .arg(self.file("config.toml"))
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(!stderr.contains("panicked"), "{stderr}");
        (out.status.success(), stderr.trim_end().to_string())
    }
}

fn assert_one_line_error(sandbox: &Sandbox, file: &str, field: &str) {
    let (ok, stderr) = sandbox.check();
    assert!(!ok, "check must fail");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(file), "names the file {file}: {stderr}");
    assert!(
        stderr.contains(&format!("field `{field}`")),
        "names the field {field}: {stderr}"
    );
    assert!(stderr.contains("Fix:"), "says how to fix it: {stderr}");
}

#[test]
fn unknown_key_in_a_topic_file_is_named() {
    let s = Sandbox::new();
    s.edit("responses/gifts.toml", |t| {
        t.replacen("guidance =", "guidnce = \"x\"\nguidance =", 1)
    });
    assert_one_line_error(&s, "gifts.toml", "guidnce");
}

#[test]
fn missing_topic_file_is_named() {
    let s = Sandbox::new();
    fs::remove_file(s.file("responses/letters.toml")).unwrap();
    assert_one_line_error(&s, "letters.toml", "-");
}

#[test]
fn empty_notice_is_refused() {
    let s = Sandbox::new();
    s.edit("responses/notice.toml", |_| "text = \"   \"\n".into());
    assert_one_line_error(&s, "notice.toml", "text");
}

#[test]
fn missing_notice_field_is_refused() {
    let s = Sandbox::new();
    s.edit("responses/notice.toml", |_| "# switched off\n".into());
    assert_one_line_error(&s, "notice.toml", "text");
}

#[test]
fn empty_guidance_is_refused() {
    let s = Sandbox::new();
    s.edit("responses/referral.toml", |t| {
        let start = t.find("guidance = \"\"\"").unwrap();
        let end = t[start + 14..].find("\"\"\"").unwrap() + start + 17;
        format!("{}guidance = \"\"{}", &t[..start], &t[end..])
    });
    assert_one_line_error(&s, "referral.toml", "guidance");
}

#[test]
fn duplicate_topic_id_is_refused() {
    let s = Sandbox::new();
    fs::copy(
        s.file("responses/gifts.toml"),
        s.file("responses/gifts-copy.toml"),
    )
    .unwrap();
    assert_one_line_error(&s, "gifts-copy.toml", "id");
}

#[test]
fn guidance_over_discord_limits_is_refused() {
    let s = Sandbox::new();
    let long = "word ".repeat(900);
    s.edit("responses/friendship.toml", |t| {
        t.replacen("guidance = \"\"\"", &format!("guidance = \"\"\"{long}"), 1)
    });
    assert_one_line_error(&s, "friendship.toml", "guidance");
}

#[test]
fn mention_in_content_is_refused() {
    let s = Sandbox::new();
    s.edit("responses/help.toml", |t| {
        t.replacen("body = \"\"\"", "body = \"\"\"Hey @everyone! ", 1)
    });
    assert_one_line_error(&s, "help.toml", "body");
}

#[test]
fn unknown_key_in_the_config_is_named() {
    let s = Sandbox::new();
    s.edit("config.toml", |t| {
        format!("{t}[classifier]\nthreshhold = 0.3\n")
    });
    assert_one_line_error(&s, "config.toml", "threshhold");
}

#[test]
fn explicit_config_that_does_not_exist_is_an_error() {
    let out = bin()
        .args(["check", "--config", "/nonexistent/config.toml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/config.toml"));
}
