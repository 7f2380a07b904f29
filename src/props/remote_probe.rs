//! The fact script's framed answer: any bytes parse or fail without a panic, and every
//! answer framed as the script frames it (payloads holding frame-like lines included,
//! after a login banner) comes back exactly.

use std::path::PathBuf;

use proptest::prelude::*;

use crate::host::CmdOutput;
use crate::host::Uname;
use crate::host::probe::{Answer, FileMatch, LockSpec, Query, When};
use crate::host::remote_probe::parse;

/// The word a script's trailers carry (random per script in real runs).
const END: &str = "5f0c9d2a7e3b41c8a6d4e2f1b0c3a987";

fn trailer(fields: &str) -> Vec<u8> {
    format!("\n@@rdock-end {END}{fields}\n").into_bytes()
}

/// One query of each kind, as the fact pass asks them.
fn every_query() -> Vec<Query> {
    vec![
        Query::Lock(LockSpec {
            path: "/run/rdock-setup.lock".into(),
            holder: "pid 1".into(),
            wait: std::time::Duration::from_secs(1),
        }),
        Query::Uname,
        Query::IsRootUser,
        Query::SystemdOnline,
        Query::Read("/etc/os-release".into()),
        Query::AnyExists(vec!["/var/lib/docker".into()]),
        Query::Run {
            argv: vec!["docker".into(), "info".into()],
            when: When::IfExists(5),
        },
        Query::TreeSize("/var/lib/docker".into()),
        Query::Files(FileMatch::new(
            "/etc/systemd/system/docker.service.d",
            "",
            ".conf",
        )),
    ]
}

/// Bytes that often look like frames: headers of every kind with odd numbers.
fn frame_noise() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => (0usize..10, proptest::sample::select(&["lock", "locked", "uname", "bool", "online",
                "offline", "file", "none", "notfile", "run", "skip", "size", "nosize", "dir",
                "entry", "x"][..]),
              proptest::collection::vec(prop_oneof![Just(u64::MAX), Just(1u64 << 40), 0u64..40,
                Just(i64::MAX as u64)], 0..4))
            .prop_map(|(i, kind, numbers)| {
                let numbers: Vec<String> = numbers.iter().map(u64::to_string).collect();
                format!("@@rdock {i} {kind} {}\n", numbers.join(" ")).into_bytes()
            }),
        2 => any::<Vec<u8>>(),
        1 => Just(b"\n".to_vec()),
        1 => Just(b"@@rdock-files\n".to_vec()),
        1 => "[a-z .]{0,10}".prop_map(String::into_bytes),
        1 => proptest::collection::vec(prop_oneof![Just(u64::MAX), 0u64..40], 0..3)
            .prop_map(|numbers| {
                let fields: String = numbers.iter().map(|n| format!(" {n}")).collect();
                trailer(&fields)
            }),
    ];
    proptest::collection::vec(piece, 0..20).prop_map(|pieces| pieces.concat())
}

/// Payload bytes, often holding a frame header of their own.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<Vec<u8>>(),
        "(@@rdock [0-9] file 3\n|\n@@rdock-end 5f0c9d2a\n|@@rdock-end [0-9a-f]{32} 0 1\n|[a-z]{0,5}|\n){0,6}"
            .prop_map(String::into_bytes),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "(@@rdock 1 bool 1\n|[a-z]{0,5}|\n){0,4}"]
}

/// What a script answers for one query: its frame, and the answer parse must give.
fn answer(index: usize, query: &Query) -> BoxedStrategy<(Vec<u8>, Answer)> {
    let header = move |rest: String| format!("@@rdock {index} {rest}\n").into_bytes();
    let framed = move |rest: String, payload: &[u8]| {
        let mut bytes = header(rest);
        bytes.extend_from_slice(payload);
        bytes
    };
    match query {
        Query::Lock(_) => Just((header("lock".into()), Answer::Locked)).boxed(),
        Query::Uname => ("[^\n]{0,20}", "[^\n]{0,10}")
            .prop_map(move |(release, machine)| {
                (
                    framed("uname".into(), format!("{release}\n{machine}\n").as_bytes()),
                    Answer::Uname(Uname { release, machine }),
                )
            })
            .boxed(),
        Query::IsRootUser | Query::AnyExists(_) => any::<bool>()
            .prop_map(move |b| (header(format!("bool {}", u8::from(b))), Answer::Bool(b)))
            .boxed(),
        Query::SystemdOnline => {
            proptest::option::of(text().prop_filter("not the tree word", |r| r != "tree"))
                .prop_map(move |reason| match reason {
                    None => (header("online".into()), Answer::Online(Ok(()))),
                    Some(reason) => (
                        framed(format!("offline {}", reason.len()), reason.as_bytes()),
                        Answer::Online(Err(reason)),
                    ),
                })
                .boxed()
        }
        Query::Read(_) => proptest::option::of(payload())
            .prop_map(move |bytes| match bytes {
                None => (header("none".into()), Answer::File(None)),
                // Its bytes come in the files block (framed_answers).
                Some(bytes) => (header("file".into()), Answer::File(Some(bytes))),
            })
            .boxed(),
        Query::Run { .. } => proptest::option::of((0i32..256, text(), text()))
            .prop_map(move |run| match run {
                None => (header("skip".into()), Answer::Output(None)),
                Some((status, stdout, stderr)) => (
                    [
                        framed("run".into(), stdout.as_bytes()),
                        trailer(&format!(" {status} {}", stderr.len())),
                        stderr.clone().into_bytes(),
                    ]
                    .concat(),
                    Answer::Output(Some(CmdOutput {
                        status: Some(status),
                        stdout,
                        stderr,
                    })),
                ),
            })
            .boxed(),
        Query::TreeSize(_) => proptest::option::of(any::<u64>())
            .prop_map(move |size| match size {
                None => (header("nosize".into()), Answer::Size(None)),
                Some(size) => (header(format!("size {size}")), Answer::Size(Some(size))),
            })
            .boxed(),
        Query::Files(_) => proptest::collection::btree_map("[^\n/]{1,12}", payload(), 0..4)
            .prop_map(move |files| {
                let mut bytes = header(format!("dir {}", files.len()));
                for name in files.keys() {
                    bytes.extend(header(format!("entry {name}")));
                }
                (bytes, Answer::Files(files.into_iter().collect()))
            })
            .boxed(),
    }
}

fn framed_answers() -> impl Strategy<Value = (Vec<u8>, Vec<Answer>)> {
    let answers: Vec<_> = every_query()
        .iter()
        .enumerate()
        .map(|(i, q)| answer(i, q))
        .collect();
    (
        answers,
        proptest::collection::vec("[^@\n][^\n]{0,20}\n", 0..3),
    )
        .prop_map(|(framed, banner)| {
            let mut bytes = banner.concat().into_bytes();
            let mut answers = Vec::new();
            let mut files: Vec<Vec<u8>> = Vec::new();
            for (frame, answer) in framed {
                bytes.extend(frame);
                match &answer {
                    Answer::File(Some(content)) => files.push(content.clone()),
                    Answer::Files(entries) => files.extend(entries.iter().map(|e| e.1.clone())),
                    _ => {}
                }
                answers.push(answer);
            }
            bytes.extend(b"@@rdock-files\n");
            for content in &files {
                bytes.extend(format!("{}\n", content.len()).into_bytes());
            }
            bytes.extend(files.concat());
            bytes.extend(trailer(""));
            (bytes, answers)
        })
}

proptest! {
    #![proptest_config(super::config(super::DEFAULT_CASES))]

    #[test]
    fn any_bytes_parse_or_fail_without_a_panic(bytes in frame_noise()) {
        let queries = every_query();
        for root in [None, Some(PathBuf::from("/srv/root"))] {
            for skip in 0..queries.len() {
                let _ = parse(root.as_deref(), &queries[skip..], END, &bytes);
            }
        }
    }

    #[test]
    fn framed_answers_come_back_exactly((bytes, answers) in framed_answers()) {
        let parsed = parse(None, &every_query(), END, &bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(format!("{parsed:?}"), format!("{answers:?}"));
        // Cut short anywhere (a dropped connection), it is an error, never an answer.
        for cut in [0, bytes.len() / 2, bytes.len() - 1] {
            prop_assert!(parse(None, &every_query(), END, &bytes[..cut]).is_err(), "cut at {}", cut);
        }
    }
}
