//! Incremental rendering: the pages of the previous build, each kept under
//! the key of what it was made from, so that a rebuild renders (and diffs)
//! only the pages whose inputs changed and reuses the others' bytes.
//!
//! The dependency graph is written down in `pages::job_key`: a page reads
//! the site-wide inputs (configuration, strings, templates, static files,
//! the day, and every policy's list of versions with their dates, flags,
//! summaries and languages — which navigation, banners and switchers show),
//! plus the sources of the versions it shows: one version for its page, two
//! for a redline, all of a policy's for its history and feed. A key is a
//! hash of those; equal keys mean equal pages, which the test that compares
//! incremental rebuilds with builds from scratch holds us to.
//!
//! `serve` keeps one `Memo` for its life. Each build is a generation: pages
//! not reached by the latest build (a version removed, a language dropped)
//! are swept at its end.

use crate::diff::Marks;
use crate::output::Output;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A redline's word counts and marks, which the history and feed list.
pub type RedlineCounts = (
    (String, crate::date::Date, crate::date::Date),
    (usize, usize),
    Marks,
);

/// What one page job produced.
struct Entry {
    key: u64,
    generation: u64,
    /// The policy the pages belong to, if any.
    policy: Option<String>,
    /// Output path → bytes (shared with `serve`'s table of files).
    outputs: Vec<(String, Arc<[u8]>)>,
    urls: Vec<String>,
    counts: Vec<RedlineCounts>,
}

/// A policy's pages as a whole: reused in one step when nothing it is made
/// from changed (its page entries stay in `entries`).
struct PolicyEntry {
    key: u64,
    generation: u64,
    urls: Vec<String>,
    counts: Vec<RedlineCounts>,
}

#[derive(Default)]
pub struct Memo {
    entries: Mutex<HashMap<String, Entry>>,
    policies: Mutex<HashMap<String, PolicyEntry>>,
    /// The policies the latest build reused whole.
    reused_policies: Mutex<std::collections::HashSet<String>>,
    generation: AtomicU64,
    /// Pages rendered and pages reused by the latest build.
    rendered: AtomicU64,
    reused: AtomicU64,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Memo")
    }
}

impl Memo {
    /// Starts a build: later `reuse` and `store` calls belong to it.
    pub fn begin(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.reused_policies.lock().expect("not poisoned").clear();
        self.rendered.store(0, Ordering::Relaxed);
        self.reused.store(0, Ordering::Relaxed);
    }

    fn current(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The URLs and redline counts of the job's pages from an earlier build,
    /// when made from the same inputs (the pages stay in the memo).
    pub fn reuse(&self, job: &str, key: u64) -> Option<(Vec<String>, Vec<RedlineCounts>)> {
        let mut entries = self.entries.lock().expect("not poisoned");
        let entry = entries.get_mut(job).filter(|e| e.key == key)?;
        entry.generation = self.current();
        self.reused
            .fetch_add(entry.urls.len() as u64, Ordering::Relaxed);
        Some((entry.urls.clone(), entry.counts.clone()))
    }

    /// Keeps a job's fresh pages.
    pub fn store(
        &self,
        (job, policy): (String, Option<String>),
        key: u64,
        outputs: &[Output],
        urls: Vec<String>,
        counts: Vec<RedlineCounts>,
    ) {
        self.rendered
            .fetch_add(urls.len() as u64, Ordering::Relaxed);
        let entry = Entry {
            key,
            generation: self.current(),
            policy,
            outputs: outputs
                .iter()
                .map(|o| (o.file.clone(), Arc::from(o.bytes.as_slice())))
                .collect(),
            urls,
            counts,
        };
        self.entries
            .lock()
            .expect("not poisoned")
            .insert(job, entry);
    }

    /// A whole policy's URLs and redline counts from an earlier build, when
    /// made from the same inputs (its pages stay in the memo).
    pub fn reuse_policy(&self, slug: &str, key: u64) -> Option<(Vec<String>, Vec<RedlineCounts>)> {
        let mut policies = self.policies.lock().expect("not poisoned");
        let entry = policies.get_mut(slug).filter(|e| e.key == key)?;
        entry.generation = self.current();
        self.reused_policies
            .lock()
            .expect("not poisoned")
            .insert(slug.to_string());
        self.reused
            .fetch_add(entry.urls.len() as u64, Ordering::Relaxed);
        Some((entry.urls.clone(), entry.counts.clone()))
    }

    /// Keeps what a policy's pages leave for the site: URLs and counts.
    pub fn store_policy(
        &self,
        slug: &str,
        key: u64,
        urls: Vec<String>,
        counts: Vec<RedlineCounts>,
    ) {
        let entry = PolicyEntry {
            key,
            generation: self.current(),
            urls,
            counts,
        };
        self.policies
            .lock()
            .expect("not poisoned")
            .insert(slug.to_string(), entry);
    }

    /// Ends a build: forgets the pages it did not reach, directly or
    /// through their policy.
    pub fn sweep(&self) {
        let generation = self.current();
        let reused = self.reused_policies.lock().expect("not poisoned");
        self.policies
            .lock()
            .expect("not poisoned")
            .retain(|_, p| p.generation == generation);
        self.entries.lock().expect("not poisoned").retain(|_, e| {
            e.generation == generation || e.policy.as_ref().is_some_and(|p| reused.contains(p))
        });
    }

    /// Every page of the latest build: output path → bytes.
    pub fn files(&self) -> Vec<(String, Arc<[u8]>)> {
        let entries = self.entries.lock().expect("not poisoned");
        entries
            .values()
            .flat_map(|e| e.outputs.iter().cloned())
            .collect()
    }

    /// Pages rendered and pages reused by the latest build.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.rendered.load(Ordering::Relaxed),
            self.reused.load(Ordering::Relaxed),
        )
    }
}
