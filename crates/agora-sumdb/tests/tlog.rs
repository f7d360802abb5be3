//! The cases of `golang.org/x/mod/sumdb/tlog`'s tlog_test.go and
//! tile_test.go, plus exact hashes, proofs and tiles that the go command's
//! own tlog package computes for the records "leaf 0", "leaf 1", ...

use std::cell::Cell;
use std::collections::HashMap;

use agora_sumdb::tlog::{
    self, Hash, HashReader, Tile, TileHashReader, TilePlan, TileReader, TlogError, Tree,
};

fn leaf(i: u64) -> Vec<u8> {
    format!("leaf {i}").into_bytes()
}

fn h(s: &str) -> Hash {
    Hash::parse(s).expect("test vector hash")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Tree hashes of the first N "leaf i" records, N = 1..=20, from Go.
const GO_TREE_HASHES: [&str; 20] = [
    "G7l9zCFjXUfiZj79/QoXRobZjdcBNS3SzQbotD/T0wU=",
    "/F9riP+FVPdbsvnm85wxsZNtRLaSdu33sSBalVuXYeM=",
    "1Pksj7uJcg6ztVZ3x9fvrd/rENEaGoSguo8aIzN/qpU=",
    "T2MQhKFXxU9U/Psj/164ZQxLoWDClbsTqYMrEJ1SZ34=",
    "NBUVmC1lDiNSDb1U1/zwr6G3DMOhakEdRk3JwayWwwE=",
    "g2PDghzkHrtGIiEWpCzIPbp1OYSyPPyiaqrQpoZzNuo=",
    "WmH8K1T5z6cXdPJDIUPdQMbLKxGUf69lp9PaXLZRmcg=",
    "xcLIIO00L92ozolra5z1uMAKIcxLIHFMxuXTwFw1JAs=",
    "dEfK3Ghisw3tyyjEsymQk2azvTOPapD++tzEsqiiuUg=",
    "ct4a9vGtKFse8PlpyZ48AOPDLDfzo8JgUgmR0mPSX30=",
    "tubAHcNe8yoG1ShcXR8u5hcSynqvU9EI/ULCvRwUFgc=",
    "lX3TX93QjSnIRIF3UWVIaJbUdNs53IEpznV7Bo7LAus=",
    "z5tMKkSnyqci1dVI7mT/kKEZsMMaysNETcWDAAo508o=",
    "m15OWKRPw503s2otFeVhoeqYZB4a8k/m/HpzU+tbLpc=",
    "fVzzjAuL1L7jzmFz9tz5qEGoP+KqOuhVpFCx/Y/vZPk=",
    "cUopKYyn2GQ5dRAFaUmcIwnoOm8vlwkC3EbvMuvBsA8=",
    "Ru8bykxkgM1l5Q4pzBw3XbNnEc1QJF7NPmsxDG4qOD8=",
    "gmeNWF41rS5PD4UaEogUb+2vi5nztSEdpTJqMLBE9r8=",
    "V5i6F5ZaOomE5FzyPUqMS6Vi5IrWK1LPf4bXRYz9L48=",
    "xp6QHXSCwRuHMg1lie9OEGGrDS17MuzFR5lG+9Rbwwo=",
];

fn build(n: u64) -> (Vec<Hash>, Vec<Hash>, Vec<Hash>) {
    let mut storage: Vec<Hash> = Vec::new();
    let mut leaves = Vec::new();
    let mut trees = Vec::new();
    for i in 0..n {
        let hashes = tlog::stored_hashes(i, &leaf(i), &storage).expect("stored hashes");
        storage.extend(hashes);
        leaves.push(tlog::record_hash(&leaf(i)));
        assert_eq!(tlog::stored_hash_count(i + 1), storage.len() as u64);
        trees.push(tlog::tree_hash(i + 1, &storage).expect("tree hash"));
    }
    (storage, leaves, trees)
}

#[test]
fn tree_hashes_match_go() {
    let (_, _, trees) = build(20);
    for (i, want) in GO_TREE_HASHES.iter().enumerate() {
        assert_eq!(trees[i].to_string(), *want, "tree of {} records", i + 1);
    }
    assert_eq!(
        tlog::tree_hash(0, &Vec::new()).expect("empty"),
        tlog::EMPTY_HASH
    );
}

#[test]
fn proofs_match_go() {
    let (storage, leaves, trees) = build(20);
    let p = tlog::prove_record(13, 5, &storage).expect("prove record");
    let want = [
        "gxFfiUeVX6/cKifn9MCFS72Nonuxs+NAXbVxya+Nvho=",
        "brzFS2cQ7gYQp/yCzeUXE9soDj3IRRW96WMqGbZaC5M=",
        "T2MQhKFXxU9U/Psj/164ZQxLoWDClbsTqYMrEJ1SZ34=",
        "FKIDRTceLPTWuzSt7CdKn5X8MPMVCNcEZaVvhotgGXU=",
    ];
    assert_eq!(p, want.map(h).to_vec());
    tlog::check_record(&p, 13, trees[12], 5, leaves[5]).expect("check record");

    let q = tlog::prove_tree(19, 7, &storage).expect("prove tree");
    let want = [
        "+3+GnOi3tR/fcZ/IwhpHNsmMwWCoJWBqgfeKf00iYdk=",
        "S0cR0FayJ4OSwjH9QYWK3qjKiTrQxwSPV9omggAoRf4=",
        "dauSgmjIb0TaXUJBGI7XHkqrLU131tUBF9rZSoQu3gM=",
        "T2MQhKFXxU9U/Psj/164ZQxLoWDClbsTqYMrEJ1SZ34=",
        "qACpeGyYjOedMjlqMtlKfqvOMxsyqk2yNxWbv5TFMv4=",
        "fV+glzKLy3uI1fg+lnkCVx//8pZx7i0jd90ls9J2iqo=",
    ];
    assert_eq!(q, want.map(h).to_vec());
    tlog::check_tree(&q, 19, trees[18], 7, trees[6]).expect("check tree");
    // The proof is not one of another prefix.
    assert_eq!(
        tlog::check_tree(&q, 19, trees[18], 8, trees[7]),
        Err(TlogError::ProofFailed)
    );
}

#[test]
fn tiles_match_go() {
    let (storage, _, _) = build(13);
    let want = [
        (
            "tile/2/0/000",
            "1bb97dcc21635d47e2663efdfd0a174686d98dd701352dd2cd06e8b43fd3d305cb5a3ce862c3e321f3f7df6d2690549e936a8e377135aae9f3d69f691f547d5bab37ba34d1dfe29015de717a6d5764a8fb029c3a7a0f5b64b93b54351885bf7c58bd1496e1684aac9201c2e687ee7ae4f51c96a8b0d81ef3583628b93d3cd345",
        ),
        (
            "tile/2/0/001",
            "83115f8947955fafdc2a27e7f4c0854bbd8da27bb1b3e3405db571c9af8dbe1a95adf15b7ef5db67386a8bafbefee4d145662afa450740e1868553e8348ed3a0fb7f869ce8b7b51fdf719fc8c21a4736c98cc160a825606a81f78a7f4d2261d94b4711d056b2278392c231fd41858adea8ca893ad0c7048f57da2682002845fe",
        ),
        (
            "tile/2/0/002",
            "f3501d5f2415152521764bc72daf9dc1f9a665c0dfcc79c56324c123cfac5fde70b9dd27211abc7c2b19cef4c6dd134ef304666d3bb7294947d561bc4b6dd1b6ae033012fbd8ea5844f5ddadb950a53c0b72fa35f295e25577d323a867793a824bbd05cc678dd3a660997f0df31535bbd206e1beec9ff8d355dd9a4edd30debc",
        ),
        (
            "tile/2/0/003.p/1",
            "095a4e75d5182c6b8a09d921272eafef0941c801d454275ed9d7398e44c3353e",
        ),
        (
            "tile/2/1/000.p/3",
            "4f631084a157c54f54fcfb23ff5eb8650c4ba160c295bb13a9832b109d52677ec3e6b3b91f3a13b9a4270b2cd911623abb3a7a855af5e6e4b71c84f990cdc469fae26f92225ab432372dd5a7d48db45f73cb5ca36bd60bf1d554c0f81d6eb9ae",
        ),
    ];
    let tiles = tlog::new_tiles(2, 0, 13);
    assert_eq!(tiles.len(), want.len());
    for (t, (path, data)) in tiles.iter().zip(want) {
        assert_eq!(t.path(), path);
        assert_eq!(
            hex(&tlog::read_tile_data(*t, &storage).expect("tile")),
            data
        );
    }
}

#[test]
fn tree_note_text() {
    let tree = Tree {
        n: 13,
        hash: tlog::record_hash(b"x"),
    };
    let text = tlog::format_tree(tree);
    assert_eq!(
        text,
        "go.sum database tree\n13\nPH6byTDck/AfppmF7yQtn56GHzxTVaokzl70tLinDMs=\n"
    );
    assert_eq!(tlog::parse_tree(text.as_bytes()), Ok(tree));
    // Extension lines after the hash are allowed.
    assert_eq!(
        tlog::parse_tree(format!("{text}extra\n").as_bytes()),
        Ok(tree)
    );
    for bad in [
        "go.sum database tree\n13\n".to_owned(),
        "go.sum database tree\n013\nPH6byTDck/AfppmF7yQtn56GHzxTVaokzl70tLinDMs=\n".to_owned(),
        "go.sum database tree\n-1\nPH6byTDck/AfppmF7yQtn56GHzxTVaokzl70tLinDMs=\n".to_owned(),
        "go.sum database tree\n+1\nPH6byTDck/AfppmF7yQtn56GHzxTVaokzl70tLinDMs=\n".to_owned(),
        "go.sum database tree\n13\nPH6byTDck/AfppmF7yQtn56GHzxTVaokzl70tLinDM=\n".to_owned(),
        "go.sum database tre\n13\nPH6byTDck/AfppmF7yQtn56GHzxTVaokzl70tLinDMs=\n".to_owned(),
        format!("{text}{}", "x".repeat(1_000_000)),
    ] {
        assert_eq!(
            tlog::parse_tree(bad.as_bytes()),
            Err(TlogError::MalformedTree),
            "{bad:.80?}"
        );
    }
}

#[test]
fn record_format() {
    let text = b"golang.org/x/text v0.3.0 h1:abc=\ngolang.org/x/text v0.3.0/go.mod h1:def=\n";
    let msg = tlog::format_record(42, text).expect("format");
    assert_eq!(msg, [b"42\n".as_slice(), text, b"\n"].concat());
    let mut with_note = msg.clone();
    with_note.extend_from_slice(b"go.sum database tree\n");
    let (id, t, rest) = tlog::parse_record(&with_note).expect("parse");
    assert_eq!(
        (id, t, rest),
        (42, text.as_slice(), b"go.sum database tree\n".as_slice())
    );
    for bad in [
        b"a\nb\n\n".as_slice(),
        b"-1\nb\n\n",
        b"1\nb\n",
        b"1\n\x01b\n\n",
        b"1\nb\xff\n\n",
        b"1\n\n",
    ] {
        assert_eq!(tlog::parse_record(bad), Err(TlogError::MalformedRecord));
    }
    assert_eq!(
        tlog::format_record(1, b"a\n\nb\n"),
        Err(TlogError::MalformedRecord)
    );
    assert_eq!(
        tlog::format_record(1, b"a"),
        Err(TlogError::MalformedRecord)
    );
}

#[test]
fn data_tiles() {
    let texts = ["a v1 h1:x\na v1/go.mod h1:y\n", "b v1 h1:z\n"];
    assert_eq!(
        tlog::format_data_tile(&texts).expect("data tile"),
        b"a v1 h1:x\na v1/go.mod h1:y\n\nb v1 h1:z\n\n"
    );
    assert_eq!(
        tlog::format_data_tile(&["no newline"]),
        Err(TlogError::MalformedRecord)
    );
    let t = Tile::parse_path("tile/8/data/000.p/2").expect("data tile path");
    assert_eq!((t.l, t.w), (-1, 2));
}

#[test]
fn split_stored_hash_index_inverts() {
    for l in 0..10 {
        for n in 0..100 {
            let x = tlog::stored_hash_index(l, n);
            assert_eq!(tlog::split_stored_hash_index(x), (l, n), "index {x}");
        }
    }
}

/// Go's tilePaths table; an expected tile of height 0 means the path must
/// be refused.
#[test]
fn tile_paths() {
    let t = |h, l, n, w| Tile { h, l, n, w };
    let cases = [
        ("tile/4/0/001", Some(t(4, 0, 1, 16))),
        ("tile/4/0/001.p/5", Some(t(4, 0, 1, 5))),
        ("tile/3/5/x123/x456/078", Some(t(3, 5, 123456078, 8))),
        ("tile/3/5/x123/x456/078.p/2", Some(t(3, 5, 123456078, 2))),
        ("tile/1/0/x003/x057/500", Some(t(1, 0, 3057500, 2))),
        ("tile/3/5/123/456/078", None),
        ("tile/3/-1/123/456/078", None),
        ("tile/1/data/x003/x057/500", Some(t(1, -1, 3057500, 2))),
        // Beyond Go's table: non-canonical and out-of-range forms.
        ("tile/4/0/1", None),
        ("tile/4/0/001.p/16", None),
        ("tile/4/0/001.p/0", None),
        ("tile/31/0/001", None),
        ("tile/0/0/001", None),
        ("tile/+4/0/001", None),
        ("tile/4/0/x000/001", None),
        ("tile/4/0/x1000/001", None),
        ("tile/4/0", None),
        ("tiles/4/0/001", None),
        ("tile/8/0/x999/x999/x999/x999/x999/x999/x999/999", None),
    ];
    for (path, want) in cases {
        match want {
            Some(tile) => {
                assert_eq!(tile.path(), path);
                assert_eq!(Tile::parse_path(path), Ok(tile), "{path}");
            }
            None => assert!(Tile::parse_path(path).is_err(), "{path} accepted"),
        }
    }
}

#[test]
fn tile_data_refuses_data_tiles_and_bad_heights() {
    let (storage, _, _) = build(4);
    for t in [
        Tile {
            h: 2,
            l: -1,
            n: 0,
            w: 4,
        },
        Tile {
            h: 0,
            l: 0,
            n: 0,
            w: 1,
        },
        Tile {
            h: 31,
            l: 0,
            n: 0,
            w: 1,
        },
        Tile {
            h: 2,
            l: 0,
            n: 0,
            w: 5,
        },
    ] {
        assert!(matches!(
            tlog::read_tile_data(t, &storage),
            Err(TlogError::InvalidTile(_))
        ));
    }
    assert!(tlog::new_tiles(0, 0, 10).is_empty());
}

#[test]
fn huge_sizes_do_not_panic() {
    let n = i64::MAX as u64;
    let _ = tlog::stored_hash_index(63, n);
    let _ = tlog::stored_hash_count(n);
    let tree = Tree {
        n,
        hash: Hash::default(),
    };
    let plan = TilePlan::new(tree, 8, &[0]).expect("plan");
    assert!(!plan.tiles().is_empty());
    assert_eq!(
        tlog::check_record(&[], n, Hash::default(), n - 1, Hash::default()),
        Err(TlogError::ProofFailed)
    );
}

#[test]
fn new_tiles_counts() {
    for (old, new, want) in [
        (1, 1, 0),
        (100, 101, 1),
        (1023, 1025, 3),
        (1024, 1030, 1),
        (1030, 2000, 1),
        (1030, 10000, 10),
        (49516517, 49516586, 3),
    ] {
        assert_eq!(tlog::new_tiles(10, old, new).len(), want, "{old}-{new}");
    }
}

/// Serves tiles computed from the stored hashes, optionally zeroing one
/// stored hash's bytes in the tile that holds it, and counts tiles read
/// but not saved.
struct Tiles<'a> {
    hashes: &'a [Hash],
    zero: Option<u64>,
    unsaved: Cell<i64>,
}

impl TileReader for Tiles<'_> {
    fn height(&self) -> u32 {
        2
    }
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TlogError> {
        self.unsaved.set(self.unsaved.get() + tiles.len() as i64);
        let mut out = Vec::new();
        for t in tiles {
            let mut d = tlog::read_tile_data(*t, self.hashes)?;
            if let Some(i) = self.zero {
                let zt = tlog::tile_for_index(2, i);
                let (level, n) = tlog::split_stored_hash_index(i);
                let level = level - 2 * zt.l as u32;
                let n_in = n - ((zt.n << 2) >> level);
                let (start, end) = (
                    (n_in << level) as usize * 32,
                    ((n_in + 1) << level) as usize * 32,
                );
                if t.h == zt.h && t.l == zt.l && t.n == zt.n && end <= d.len() {
                    d[start..end].fill(0);
                }
            }
            out.push(d);
        }
        Ok(out)
    }
    fn save_tiles(&self, tiles: &[Tile], _: &[Vec<u8>]) {
        self.unsaved.set(self.unsaved.get() - tiles.len() as i64);
    }
}

/// Go's TestTree: for every tree of 1..=100 records, tiles extend earlier
/// tiles, every record and prefix proves, corrupt proofs fail, and the tile
/// reader gives back exactly the stored hashes.
#[test]
fn tree_tiles_and_proofs() {
    let mut storage: Vec<Hash> = Vec::new();
    let mut leaves = Vec::new();
    let mut trees = Vec::new();
    let mut tiles: HashMap<Tile, Vec<u8>> = HashMap::new();
    for i in 0..100u64 {
        let data = leaf(i);
        let old_len = storage.len();
        storage.extend(tlog::stored_hashes(i, &data, &storage).expect("stored"));
        leaves.push(tlog::record_hash(&data));
        let th = tlog::tree_hash(i + 1, &storage).expect("tree hash");

        for t in tlog::new_tiles(2, i, i + 1) {
            let d = tlog::read_tile_data(t, &storage).expect("tile");
            let old = Tile { w: t.w - 1, ..t };
            let od = tiles.get(&old).cloned().unwrap_or_default();
            assert!(
                od.len() == d.len() - 32 && d.starts_with(&od),
                "tile {} not extending {}",
                t.path(),
                old.path()
            );
            tiles.insert(t, d);
        }
        for t in tlog::new_tiles(2, 0, i + 1)
            .into_iter()
            .chain(tlog::new_tiles(2, i / 2, i + 1))
        {
            let d = tlog::read_tile_data(t, &storage).expect("tile");
            assert_eq!(tiles.get(&t), Some(&d), "mismatch at {}", t.path());
        }
        for j in old_len as u64..storage.len() as u64 {
            let t = tlog::tile_for_index(2, j);
            let d = tiles.get(&t).expect("tile for new hash stored");
            assert_eq!(tlog::hash_from_tile(t, d, j), Ok(storage[j as usize]));
        }
        trees.push(th);

        for j in 0..=i {
            let mut p = tlog::prove_record(i + 1, j, &storage).expect("prove");
            tlog::check_record(&p, i + 1, th, j, leaves[j as usize]).expect("check");
            for k in 0..p.len() {
                p[k].0[0] ^= 1;
                assert!(tlog::check_record(&p, i + 1, th, j, leaves[j as usize]).is_err());
                p[k].0[0] ^= 1;
            }
        }

        let reader = Tiles {
            hashes: &storage,
            zero: None,
            unsaved: Cell::new(0),
        };
        let thr = TileHashReader::new(Tree { n: i + 1, hash: th }, &reader);
        for j in 0..=i {
            let got = thr
                .read_hashes(&[tlog::stored_hash_index(0, j)])
                .expect("read through tiles");
            assert_eq!(got, vec![leaves[j as usize]]);
            let p = tlog::prove_record(i + 1, j, &thr).expect("prove via tiles");
            tlog::check_record(&p, i + 1, th, j, leaves[j as usize]).expect("check via tiles");
        }
        assert_eq!(reader.unsaved.get(), 0, "tiles read but not saved");
        assert_eq!(
            thr.read_hashes(&[(i + 1) * 2]),
            Err(TlogError::IndexNotInTree)
        );

        for j in 0..=i {
            assert_eq!(tlog::tree_hash(j + 1, &thr), Ok(trees[j as usize]));
            let mut p = tlog::prove_tree(i + 1, j + 1, &thr).expect("prove tree");
            tlog::check_tree(&p, i + 1, th, j + 1, trees[j as usize]).expect("check tree");
            for k in 0..p.len() {
                p[k].0[0] ^= 1;
                assert!(tlog::check_tree(&p, i + 1, th, j + 1, trees[j as usize]).is_err());
                p[k].0[0] ^= 1;
            }
        }
        assert_eq!(reader.unsaved.get(), 0);
    }
}

/// Go's TestTileHashReader: every stored hash reads back through tiles,
/// one at a time and all at once, and zeroing any one of them in the tiles
/// served makes both reads fail.
#[test]
fn tile_hash_reader_detects_tampering() {
    let (storage, _, trees) = build(40);
    for n in 1..=40u64 {
        let tree = Tree {
            n,
            hash: trees[n as usize - 1],
        };
        let hashes = &storage[..tlog::stored_hash_count(n) as usize];
        let reader = Tiles {
            hashes,
            zero: None,
            unsaved: Cell::new(0),
        };
        let thr = TileHashReader::new(tree, &reader);
        let limit = tlog::stored_hash_index(0, n);
        let all: Vec<u64> = (0..limit).collect();
        for i in 0..limit {
            assert_eq!(thr.read_hashes(&[i]), Ok(vec![hashes[i as usize]]));
        }
        assert_eq!(
            thr.read_hashes(&all).expect("all"),
            hashes[..limit as usize].to_vec()
        );
        for i in 0..limit {
            let bad = Tiles {
                hashes,
                zero: Some(i),
                unsaved: Cell::new(0),
            };
            let thz = TileHashReader::new(tree, &bad);
            assert!(thz.read_hashes(&[i]).is_err(), "N={n} tampered={i}");
            assert!(thz.read_hashes(&all).is_err(), "N={n} tampered={i} all");
            assert!(bad.unsaved.get() > 0, "tampered tiles saved");
        }
    }
}

#[test]
fn tile_plan_refuses_bad_tile_data() {
    let (storage, _, trees) = build(13);
    let tree = Tree {
        n: 13,
        hash: trees[12],
    };
    let plan = TilePlan::new(tree, 2, &[tlog::stored_hash_index(0, 5)]).expect("plan");
    let data: Vec<Vec<u8>> = plan
        .tiles()
        .iter()
        .map(|t| tlog::read_tile_data(*t, &storage).expect("tile"))
        .collect();
    assert_eq!(
        plan.verify(&data),
        Ok(vec![storage[tlog::stored_hash_index(0, 5) as usize]])
    );
    let mut short = data.clone();
    short[0].pop();
    assert!(plan.verify(&short).is_err());
    assert!(plan.verify(&data[1..]).is_err());
    let other = Tree {
        n: 13,
        hash: trees[11],
    };
    let plan = TilePlan::new(other, 2, &[0]).expect("plan");
    let data: Vec<Vec<u8>> = plan
        .tiles()
        .iter()
        .map(|t| tlog::read_tile_data(*t, &storage).expect("tile"))
        .collect();
    assert_eq!(plan.verify(&data), Err(TlogError::InconsistentTile));
}
