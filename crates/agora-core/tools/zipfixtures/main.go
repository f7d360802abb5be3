// Command zipfixtures writes the module zips under
// crates/agora-core/testdata/zips/ and expected.json, which records for each
// zip what the go command concludes about it: the CheckZip error of
// golang.org/x/mod/zip and the dirhash.HashZip result (h1 or error). The go
// command accepts a downloaded zip only if both succeed (modfetch runs
// HashZip, then Unzip, which runs CheckZip).
//
// A few good zips are made with x/mod's zip.Create; the rest, and all the bad
// ones, with archive/zip directly, so that they can hold what Create never
// writes (directory entries, headers that lie about sizes and checksums).
//
// It needs golang.org/x/mod; the copy vendored in the Go toolchain works:
//
//	GOROOT=$(go env GOROOT); W=$(mktemp -d)
//	cp -r $GOROOT/src/cmd/vendor/golang.org/x/mod $W/xmod
//	printf 'module golang.org/x/mod\n\ngo 1.23\n' > $W/xmod/go.mod
//	cp crates/agora-core/tools/zipfixtures/main.go $W/
//	(cd $W && go mod init zipfixtures && go mod edit -require golang.org/x/mod@v0.0.0 \
//	    -replace golang.org/x/mod=./xmod && \
//	    GOFLAGS=-mod=mod GOPROXY=off go run . -out $OLDPWD/crates/agora-core/testdata/zips)
package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"flag"
	"hash/crc32"
	"io"
	"log"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
)

const (
	mod = "example.com/m"
	ver = "v1.0.0"
	pfx = mod + "@" + ver + "/"
)

// entry is one zip entry to write with archive/zip.
type entry struct {
	name string
	data []byte
	// raw entries are written with CreateRaw: data is stored as given and the
	// header says method/crc/size, which may lie.
	raw      bool
	method   uint16
	crc      uint32
	declared uint64
	extra    []byte
}

func file(name, data string) entry { return entry{name: name, data: []byte(data)} }
func dir(name string) entry        { return entry{name: name} }

type fixture struct {
	Name    string `json:"name"`
	Module  string `json:"module"`
	Version string `json:"version"`
	// GoAccepts is CheckZip == nil && HashZip == nil.
	GoAccepts bool   `json:"go_accepts"`
	CheckErr  string `json:"check_err,omitempty"`
	H1        string `json:"h1,omitempty"`
	HashErr   string `json:"hash_err,omitempty"`
	// GoMod is the root go.mod content when Go accepts and one is present.
	GoMod *string `json:"go_mod,omitempty"`
	Note  string  `json:"note"`
}

var outDir string

func writeEntries(path string, entries []entry) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		if !e.raw {
			fw, err := w.Create(e.name)
			check(err)
			if !strings.HasSuffix(e.name, "/") {
				_, err = fw.Write(e.data)
				check(err)
			}
			continue
		}
		fh := &zip.FileHeader{
			Name:               e.name,
			Method:             e.method,
			CRC32:              e.crc,
			CompressedSize64:   uint64(len(e.data)),
			UncompressedSize64: e.declared,
			Extra:              e.extra,
		}
		fh.Modified = time.Time{}
		fw, err := w.CreateRaw(fh)
		check(err)
		if !strings.HasSuffix(e.name, "/") {
			_, err = fw.Write(e.data)
			check(err)
		}
	}
	check(w.Close())
	check(os.WriteFile(path, buf.Bytes(), 0o644))
}

// dataFile implements modzip.File for zip.Create.
type dataFile struct {
	name string
	data []byte
}

func (f dataFile) Path() string                 { return f.name }
func (f dataFile) Lstat() (os.FileInfo, error)  { return dataInfo(f), nil }
func (f dataFile) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(f.data)), nil }

type dataInfo dataFile

func (i dataInfo) Name() string       { return filepath.Base(i.name) }
func (i dataInfo) Size() int64        { return int64(len(i.data)) }
func (i dataInfo) Mode() os.FileMode  { return 0o644 }
func (i dataInfo) ModTime() time.Time { return time.Time{} }
func (i dataInfo) IsDir() bool        { return false }
func (i dataInfo) Sys() any           { return nil }

func create(path, m, v string, files map[string]string) {
	// Sorted, so that regenerating gives the same bytes.
	var fs []modzip.File
	for _, name := range slices.Sorted(maps.Keys(files)) {
		fs = append(fs, dataFile{name, []byte(files[name])})
	}
	var buf bytes.Buffer
	check(modzip.Create(&buf, module.Version{Path: m, Version: v}, fs))
	check(os.WriteFile(path, buf.Bytes(), 0o644))
}

func deflate(data []byte) []byte {
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	check(err)
	_, err = fw.Write(data)
	check(err)
	check(fw.Close())
	return buf.Bytes()
}

func deflated(name string, data []byte, declared uint64) entry {
	return entry{name: name, data: deflate(data), raw: true, method: zip.Deflate,
		crc: crc32.ChecksumIEEE(data), declared: declared}
}

func stored(name string, data []byte, crc uint32, declared uint64) entry {
	return entry{name: name, data: data, raw: true, method: zip.Store, crc: crc, declared: declared}
}

// unicodePath builds an Info-ZIP Unicode Path extra field (0x7075) that
// renames rawName to uname for readers that honour it.
func unicodePath(rawName, uname string) []byte {
	var b bytes.Buffer
	body := append([]byte{1}, binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE([]byte(rawName)))...)
	body = append(body, uname...)
	check(binary.Write(&b, binary.LittleEndian, uint16(0x7075)))
	check(binary.Write(&b, binary.LittleEndian, uint16(len(body))))
	b.Write(body)
	return b.Bytes()
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func main() {
	flag.StringVar(&outDir, "out", "testdata/zips", "output directory")
	flag.Parse()
	check(os.MkdirAll(outDir, 0o755))

	gomod := "module example.com/m\n\ngo 1.22\n"
	big := func(n int) []byte { return bytes.Repeat([]byte{'x'}, n) }
	const mib = 1 << 20

	type spec struct {
		name, module, version, note string
		build                       func(path string)
	}
	ents := func(es ...entry) func(string) { return func(p string) { writeEntries(p, es) } }
	specs := []spec{
		{"good_create", mod, ver, "made by x/mod zip.Create", func(p string) {
			create(p, mod, ver, map[string]string{"go.mod": gomod, "LICENSE": "license\n", "a.go": "package m\n", "sub/b.go": "package sub\n", "vendor/modules.txt": "# x\n"})
		}},
		{"good_v2", "example.com/m/v2", "v2.0.0", "major version suffix", func(p string) {
			create(p, "example.com/m/v2", "v2.0.0", map[string]string{"go.mod": "module example.com/m/v2\n", "a.go": "package m\n"})
		}},
		{"good_incompatible", mod, "v2.0.0+incompatible", "+incompatible without go.mod", func(p string) {
			create(p, mod, "v2.0.0+incompatible", map[string]string{"a.go": "package m\n"})
		}},
		{"good_no_gomod", mod, ver, "no go.mod at all", ents(file(pfx+"a.go", "package m\n"))},
		{"good_empty", mod, ver, "a zip without entries", ents()},
		{"good_dir_entries", mod, ver, "directory entries are allowed and hashed as empty files",
			ents(dir(pfx), dir(pfx+"sub/"), file(pfx+"sub/x.go", "package sub\n"), file(pfx+"go.mod", gomod))},
		{"good_prefix_dir_only", mod, ver, "only the bare prefix directory entry", ents(dir(pfx))},
		{"good_unicode_names", mod, ver, "Unicode letters are allowed in file names",
			ents(file(pfx+"café.go", "package m\n"), file(pfx+"Ωmega/ß.go", "package x\n"))},
		{"good_stored", mod, ver, "stored (uncompressed) entries",
			ents(stored(pfx+"a.go", []byte("package m\n"), crc32.ChecksumIEEE([]byte("package m\n")), 10))},
		{"good_zero_crc", mod, ver, "CRC 0 without data descriptor means unrecorded; Go does not check it",
			ents(stored(pfx+"a.go", []byte("package m\n"), 0, 10))},
		{"good_license_at_limit", mod, ver, "LICENSE of exactly 16 MiB",
			ents(deflated(pfx+"LICENSE", big(16*mib), 16*mib))},
		{"good_license_in_subdir_large", mod, ver, "the LICENSE limit is for the root file only",
			ents(deflated(pfx+"sub/LICENSE", big(16*mib+1), 16*mib+1))},
		{"good_vendor_and_hg", mod, ver, "CheckZip does not omit vendor or .hg_archival.txt",
			ents(file(pfx+"vendor/x/y.go", "package y\n"), file(pfx+".hg_archival.txt", "repo\n"))},
		{"bad_wrong_module_prefix", mod, ver, "entry for another module",
			ents(file("example.com/other@v1.0.0/a.go", "package m\n"))},
		{"bad_wrong_version_prefix", mod, ver, "entry for another version",
			ents(file("example.com/m@v1.0.1/a.go", "package m\n"))},
		{"bad_no_slash_prefix", mod, ver, "the prefix needs its slash", ents(file("example.com/m@v1.0.0", "x"))},
		{"bad_dotdot", mod, ver, "parent element", ents(file(pfx+"../a.go", "package m\n"))},
		{"bad_unclean", mod, ver, "a/../b.go is not clean", ents(file(pfx+"a/../b.go", "package m\n"))},
		{"bad_double_slash", mod, ver, "empty element", ents(file(pfx+"a//b.go", "package m\n"))},
		{"bad_dot_dir_entry", mod, ver, "directory entry ./", ents(dir(pfx + "./"))},
		{"bad_dup_file", mod, ver, "the same file twice",
			ents(file(pfx+"a.go", "package m\n"), file(pfx+"a.go", "package n\n"))},
		{"bad_case_collision", mod, ver, "A.go and a.go",
			ents(file(pfx+"A.go", "package m\n"), file(pfx+"a.go", "package m\n"))},
		{"bad_dir_case_collision", mod, ver, "Dir/x and dir/y collide on the directory",
			ents(file(pfx+"Dir/x", "x"), file(pfx+"dir/y", "y"))},
		{"bad_kelvin_collision", mod, ver, "k.go and KELVIN SIGN.go fold together",
			ents(file(pfx+"k.go", "package m\n"), file(pfx+"\u212a.go", "package m\n"))},
		{"bad_file_and_dir", mod, ver, "a is a file and the parent of a/b",
			ents(file(pfx+"a", "x"), file(pfx+"a/b", "y"))},
		{"bad_file_and_dir_entry", mod, ver, "a is a file and a directory entry",
			ents(file(pfx+"a", "x"), dir(pfx+"a/"))},
		{"bad_gomod_upper", mod, ver, "GO.MOD at the root", ents(file(pfx+"GO.MOD", gomod))},
		{"bad_gomod_mixed", mod, ver, "Go.mod at the root", ents(file(pfx+"Go.mod", gomod))},
		{"bad_gomod_subdir", mod, ver, "go.mod below the root is not allowed by CheckZip",
			ents(file(pfx+"go.mod", gomod), file(pfx+"sub/go.mod", "module example.com/m/sub\n"))},
		{"bad_gomod_subdir_upper", mod, ver, "GO.MOD below the root",
			ents(file(pfx+"sub/GO.MOD", "module example.com/m/sub\n"))},
		{"bad_gomod_too_large", mod, ver, "root go.mod over 16 MiB",
			ents(deflated(pfx+"go.mod", big(16*mib+1), 16*mib+1))},
		{"bad_license_too_large", mod, ver, "root LICENSE over 16 MiB",
			ents(deflated(pfx+"LICENSE", big(16*mib+1), 16*mib+1))},
		{"bad_total_declared_too_large", mod, ver, "declared sizes add up to more than 500 MiB",
			ents(stored(pfx+"a", []byte("x"), crc32.ChecksumIEEE([]byte("x")), 300*mib),
				stored(pfx+"b", []byte("y"), crc32.ChecksumIEEE([]byte("y")), 300*mib))},
		{"bad_bomb", mod, ver, "1 MiB of data declared as 100 bytes",
			ents(deflated(pfx+"a.go", big(mib), 100))},
		{"bad_short", mod, ver, "100 bytes of data declared as 1000",
			ents(deflated(pfx+"a.go", big(100), 1000))},
		{"bad_stored_size", mod, ver, "stored entry with 10 bytes declared as 9",
			ents(stored(pfx+"a.go", []byte("package m\n"), crc32.ChecksumIEEE([]byte("package m\n")), 9))},
		{"bad_crc", mod, ver, "wrong CRC-32",
			ents(stored(pfx+"a.go", []byte("package m\n"), 12345, 10))},
		{"bad_dir_with_data", mod, ver, "a directory entry declaring content",
			ents(stored(pfx+"sub/", nil, 0, 3), file(pfx+"sub/a.go", "package sub\n"))},
		{"bad_method", mod, ver, "unsupported compression method (bzip2)",
			ents(entry{name: pfx + "a.go", data: []byte("xxxx"), raw: true, method: 12, crc: 0, declared: 4})},
		{"bad_colon", mod, ver, "':' is not allowed in file names", ents(file(pfx+"a:b.go", "package m\n"))},
		{"bad_backslash", mod, ver, "'\\' is not allowed", ents(file(pfx+"a\\b.go", "package m\n"))},
		{"bad_reserved", mod, ver, "Windows reserved name", ents(file(pfx+"aux.go", "package m\n"))},
		{"bad_trailing_dot", mod, ver, "trailing dot", ents(file(pfx+"a.", "x"))},
		{"bad_non_utf8", mod, ver, "file name is not UTF-8", ents(file(pfx+"\xff.go", "package m\n"))},
		{"bad_version_not_canonical", mod, "v1.0", "the version argument is not canonical",
			ents(file("example.com/m@v1.0/a.go", "package m\n"))},
		{"bad_version_build", mod, "v1.0.0+meta", "build metadata other than +incompatible",
			ents(file("example.com/m@v1.0.0+meta/a.go", "package m\n"))},
		{"bad_major_mismatch", "example.com/m/v2", "v1.0.0", "path /v2 with a v1 version",
			ents(file("example.com/m/v2@v1.0.0/a.go", "package m\n"))},
		{"bad_not_a_zip", mod, ver, "not a zip file", func(p string) { check(os.WriteFile(p, []byte("not a zip\n"), 0o644)) }},
		// Known divergences: Go accepts these, agora refuses them (see zipcheck.rs).
		{"diverge_dup_dir", mod, ver, "the same directory entry twice: allowed by Go",
			ents(dir(pfx+"sub/"), dir(pfx+"sub/"), file(pfx+"sub/a.go", "package sub\n"))},
		{"diverge_unicode_path_extra", mod, ver, "Info-ZIP Unicode Path extra field renaming a.go to b.go: Go ignores it",
			ents(entry{name: pfx + "a.go", data: []byte("package m\n"), raw: true, method: zip.Store,
				crc: crc32.ChecksumIEEE([]byte("package m\n")), declared: 10, extra: unicodePath(pfx+"a.go", pfx+"b.go")})},
	}

	var out []fixture
	for _, s := range specs {
		p := filepath.Join(outDir, s.name+".zip")
		s.build(p)
		fx := fixture{Name: s.name, Module: s.module, Version: s.version, Note: s.note}
		_, cerr := modzip.CheckZip(module.Version{Path: s.module, Version: s.version}, p)
		if cerr != nil {
			fx.CheckErr = cerr.Error()
		}
		h, herr := dirhash.HashZip(p, dirhash.Hash1)
		if herr != nil {
			fx.HashErr = herr.Error()
		} else {
			fx.H1 = h
		}
		fx.GoAccepts = cerr == nil && herr == nil
		if fx.GoAccepts {
			if z, err := zip.OpenReader(p); err == nil {
				for _, f := range z.File {
					if f.Name == s.module+"@"+s.version+"/go.mod" {
						r, err := f.Open()
						check(err)
						b, err := io.ReadAll(r)
						check(err)
						str := string(b)
						fx.GoMod = &str
					}
				}
				z.Close()
			}
		}
		out = append(out, fx)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	check(err)
	check(os.WriteFile(filepath.Join(outDir, "expected.json"), append(b, '\n'), 0o644))
}
