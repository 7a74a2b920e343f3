//! Diagnostics: every problem the pipeline finds carries its place (file and,
//! where there is one, line) and a hint written for the people who edit the
//! sources. Stages collect them instead of stopping at the first.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a problem is: a file (with `line`, where there is one), a
/// command-line flag, an environment variable, or a command's request as a
/// whole (its arguments, or what it needs around it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    File(PathBuf),
    Flag(String),
    Env(String),
    Command(String),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::File(path) => write!(f, "{}", path.display()),
            Place::Flag(name) | Place::Env(name) | Place::Command(name) => f.write_str(name),
        }
    }
}

/// One problem in the sources, with where it is and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub place: Place,
    pub line: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A problem in a file (or folder).
    pub fn new(file: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Self::at(Place::File(file.as_ref().to_path_buf()), message)
    }

    /// A problem with a command-line flag's value, e.g. `--requests-endpoint`.
    pub fn flag(flag: &str, message: impl Into<String>) -> Self {
        Self::at(Place::Flag(flag.to_string()), message)
    }

    /// A problem with an environment variable's value, e.g. `SOURCE_DATE_EPOCH`.
    pub fn env(var: &str, message: impl Into<String>) -> Self {
        Self::at(Place::Env(var.to_string()), message)
    }

    /// A problem with a command's request as a whole, e.g. `policy-site diff`.
    pub fn command(command: &str, message: impl Into<String>) -> Self {
        Self::at(Place::Command(command.to_string()), message)
    }

    fn at(place: Place, message: impl Into<String>) -> Self {
        Diagnostic {
            place,
            line: None,
            message: message.into(),
            hint: None,
        }
    }

    /// The file the problem is in, when it is in one.
    pub fn file(&self) -> Option<&Path> {
        match &self.place {
            Place::File(path) => Some(path),
            _ => None,
        }
    }

    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A file that is not UTF-8 text, placed at its first stray byte by
    /// line, column and byte offset (a file saved as Latin-1, typically).
    pub fn not_utf8(path: &Path, error: &std::string::FromUtf8Error) -> Diagnostic {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        Diagnostic::new(
            path,
            format!(
                "{name} is not UTF-8 text: the byte at line {line}, column {column} (byte {} of the file) is not part of a character",
                valid.len() + 1
            ),
        )
        .at_line(line)
        .with_hint("save the file as UTF-8 in your editor (it was probably saved as Latin-1 or Windows-1252)")
    }

    /// The file shown relative to `root`, as people see it in their editor.
    pub fn relative_to(mut self, root: &Path) -> Self {
        // The root itself is `.`, never an empty place.
        if let Place::File(file) = &mut self.place {
            if let Ok(rel) = file.strip_prefix(root) {
                *file = if rel.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    rel.to_path_buf()
                };
            }
        }
        self
    }

    pub fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{}", self.place, line),
            None => self.place.to_string(),
        }
    }
}

impl Diagnostic {
    /// `place:line: level: message` and the hint, for people (`level` is
    /// `error` or `warning`).
    pub fn labelled(&self, level: &str) -> String {
        let mut text = format!("{}: {level}: {}", self.location(), self.message);
        if let Some(hint) = &self.hint {
            text.push_str(&format!("\n  hint: {hint}"));
        }
        text
    }

    /// A GitHub Actions workflow command (`::error file=…,line=…::message`),
    /// which the Actions page shows on the file; a flag's or a variable's
    /// problem is titled instead.
    pub fn annotation(&self, level: &str) -> String {
        let mut message = self.message.clone();
        if let Some(hint) = &self.hint {
            message.push_str(&format!(" (hint: {hint})"));
        }
        let place = match self.file() {
            Some(file) => {
                let line = self.line.map(|l| format!(",line={l}")).unwrap_or_default();
                format!("file={}{line}", escape_property(&file.to_string_lossy()))
            }
            None => format!("title={}", escape_property(&self.place.to_string())),
        };
        format!("::{level} {place}::{}\n", escape_data(&message))
    }

    /// `{file, line, message, hint}`, the item of `--format json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "file": self.place.to_string().replace('\\', "/"),
            "line": self.line,
            "message": self.message,
            "hint": self.hint,
        })
    }
}

/// Workflow-command escaping, as GitHub's toolkit does it.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.labelled("error"))
    }
}

/// How findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `file:line: error: message` and a hint, for people.
    Human,
    /// `::error file=…,line=…::message`, which GitHub Actions shows on the diff.
    Github,
    /// One JSON array of `{file, line, message, hint}`.
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "human" => Ok(Format::Human),
            "github" => Ok(Format::Github),
            "json" => Ok(Format::Json),
            _ => Err(format!("`{s}` is not a format: use human, github or json")),
        }
    }
}

/// All the problems a stage found; a build with any of them does not publish.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `Ok(value)` when nothing was found, otherwise every diagnostic, sorted
    /// by place so output is stable from one run to the next.
    pub fn into_result<T>(mut self, value: T) -> Result<T, Diagnostics> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            self.0
                .sort_by(|a, b| (&a.place, a.line).cmp(&(&b.place, b.line)));
            self.0.dedup();
            Err(self)
        }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        let n = self.0.len();
        write!(f, "{n} error{}", if n == 1 { "" } else { "s" })
    }
}

impl std::error::Error for Diagnostics {}
