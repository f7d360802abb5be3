//! Lookup answers of a small log signed with a generated key, checked end
//! to end as the go command checks them: note signature, tree head,
//! record inclusion through verified tiles.

use std::cell::RefCell;

use agora_sumdb::note::{self, Note, NoteError, Signer, Verifier, VerifierList};
use agora_sumdb::records::{self, MAX_LOOKUP_BYTES, RecordError};
use agora_sumdb::tlog::{self, Hash, Tile, TileHashReader, TileReader, TlogError, Tree};

const ZIP_H1: &str = "h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=";
const MOD_H1: &str = "h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=";

struct Log {
    texts: Vec<String>,
    hashes: Vec<Hash>,
    signer: Signer,
    vkey: String,
}

impl Log {
    fn new(records: u64) -> Log {
        let (skey, vkey) = note::generate_key("sum.agora.test").expect("keygen");
        let mut log = Log {
            texts: Vec::new(),
            hashes: Vec::new(),
            signer: Signer::parse(&skey).expect("signer"),
            vkey,
        };
        for i in 0..records {
            let text =
                records::format_record_text(&format!("example.com/m{i}"), "v1.0.0", ZIP_H1, MOD_H1);
            let n = log.texts.len() as u64;
            let new = tlog::stored_hashes(n, text.as_bytes(), &log.hashes).expect("hashes");
            log.hashes.extend(new);
            log.texts.push(text);
        }
        log
    }

    fn tree(&self) -> Tree {
        let n = self.texts.len() as u64;
        Tree {
            n,
            hash: tlog::tree_hash(n, &self.hashes).expect("tree hash"),
        }
    }

    fn signed_tree(&self, signer: &Signer) -> Vec<u8> {
        let n = Note {
            text: tlog::format_tree(self.tree()),
            ..Note::default()
        };
        note::sign(&n, &[signer]).expect("sign")
    }

    fn lookup(&self, id: usize) -> Vec<u8> {
        let mut body = tlog::format_record(id as u64, self.texts[id].as_bytes()).expect("record");
        body.extend(self.signed_tree(&self.signer));
        body
    }

    fn verifiers(&self) -> VerifierList {
        VerifierList::new([Verifier::parse(&self.vkey).expect("vkey")])
    }
}

struct Tiles<'a> {
    log: &'a Log,
    fetched: RefCell<Vec<Tile>>,
}

impl TileReader for Tiles<'_> {
    fn height(&self) -> u32 {
        // The go command's own default.
        8
    }
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TlogError> {
        self.fetched.borrow_mut().extend_from_slice(tiles);
        tiles
            .iter()
            .map(|t| tlog::read_tile_data(*t, &self.log.hashes))
            .collect()
    }
    fn save_tiles(&self, _: &[Tile], _: &[Vec<u8>]) {}
}

#[test]
fn lookup_verifies_end_to_end() {
    let log = Log::new(300);
    let body = log.lookup(257);
    let l = records::parse_lookup(&body).expect("parse");
    assert_eq!(l.id, 257);
    assert_eq!(
        l.text,
        format!("example.com/m257 v1.0.0 {ZIP_H1}\nexample.com/m257 v1.0.0/go.mod {MOD_H1}\n")
    );
    assert_eq!(
        l.hashes_for("example.com/m257", "v1.0.0"),
        (Some(ZIP_H1), Some(MOD_H1))
    );
    assert_eq!(l.hashes_for("example.com/m257", "v1.0.1"), (None, None));

    let (tree, n) = l.verify(&log.verifiers()).expect("verify note");
    assert_eq!(tree, log.tree());
    assert_eq!(n.sigs[0].name, "sum.agora.test");

    let tiles = Tiles {
        log: &log,
        fetched: RefCell::new(Vec::new()),
    };
    l.check_inclusion(tree, &TileHashReader::new(tree, &tiles))
        .expect("inclusion");
    // The tree's own subtrees (256 + 32 + 8 + 4) lie in these two tiles,
    // which already hold record 257.
    let paths: Vec<String> = tiles.fetched.borrow().iter().map(Tile::path).collect();
    assert_eq!(paths, ["tile/8/1/000.p/1", "tile/8/0/001.p/44"]);

    // Record 5 needs the full first tile too, checked against its hash in
    // the level-1 tile.
    tiles.fetched.borrow_mut().clear();
    let l = records::parse_lookup(&log.lookup(5)).expect("parse");
    l.check_inclusion(tree, &TileHashReader::new(tree, &tiles))
        .expect("inclusion");
    let paths: Vec<String> = tiles.fetched.borrow().iter().map(Tile::path).collect();
    assert_eq!(
        paths,
        ["tile/8/1/000.p/1", "tile/8/0/001.p/44", "tile/8/0/000"]
    );
}

#[test]
fn lookup_refuses_a_record_not_logged() {
    let log = Log::new(20);
    // A database answering with altered go.sum lines under a genuine tree.
    let body = String::from_utf8(log.lookup(7))
        .expect("utf8")
        .replace(ZIP_H1, "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let l = records::parse_lookup(body.as_bytes()).expect("parse");
    let (tree, _) = l.verify(&log.verifiers()).expect("note is genuine");
    let tiles = Tiles {
        log: &log,
        fetched: RefCell::new(Vec::new()),
    };
    assert_eq!(
        l.check_inclusion(tree, &TileHashReader::new(tree, &tiles)),
        Err(RecordError::NotAuthenticated)
    );

    // An id beyond the tree.
    let mut body = tlog::format_record(20, log.texts[3].as_bytes()).expect("record");
    body.extend(log.signed_tree(&log.signer));
    let l = records::parse_lookup(&body).expect("parse");
    assert_eq!(
        l.check_inclusion(tree, &TileHashReader::new(tree, &tiles)),
        Err(RecordError::NotInTree { id: 20, size: 20 })
    );
}

#[test]
fn lookup_refuses_a_tree_signed_by_another_key() {
    let log = Log::new(5);
    let (skey, _) = note::generate_key("sum.agora.test").expect("keygen");
    let impostor = Signer::parse(&skey).expect("signer");
    let mut body = tlog::format_record(1, log.texts[1].as_bytes()).expect("record");
    body.extend(log.signed_tree(&impostor));
    let l = records::parse_lookup(&body).expect("parse");
    assert!(matches!(
        l.verify(&log.verifiers()),
        Err(RecordError::Note(NoteError::Unverified(_)))
    ));
}

#[test]
fn lookup_bounds_and_syntax() {
    let big = vec![b'1'; MAX_LOOKUP_BYTES + 1];
    assert_eq!(
        records::parse_lookup(&big),
        Err(RecordError::TooLarge(MAX_LOOKUP_BYTES + 1))
    );
    assert!(matches!(
        records::parse_lookup(b"1\nexample.com/m v1.0.0\n\n"),
        Err(RecordError::MalformedLine(_))
    ));
    assert!(matches!(
        records::parse_lookup(b"x\nexample.com/m v1.0.0 h1:x\n\n"),
        Err(RecordError::Tlog(TlogError::MalformedRecord))
    ));
}

#[test]
fn lookup_paths_are_escaped() {
    assert_eq!(
        records::lookup_path("github.com/Azure/azure-sdk", "v1.0.0-RC").expect("path"),
        "/lookup/github.com/!azure/azure-sdk@v1.0.0-!r!c"
    );
}
