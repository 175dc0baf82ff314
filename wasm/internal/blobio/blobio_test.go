package blobio

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"testing/iotest"
)

// countingBlob is an in-memory Blob that counts and sizes the reads it gets,
// like a browser Blob where each read is one Blob.slice.
type countingBlob struct {
	data    []byte
	reads   atomic.Int64
	maxRead atomic.Int64
	failAt  int64 // ReadAt at or past this offset fails; 0 means never
}

var errInjected = errors.New("injected read error")

func (b *countingBlob) Size() int64 { return int64(len(b.data)) }

func (b *countingBlob) ReadAt(p []byte, off int64) (int, error) {
	b.reads.Add(1)
	for {
		m := b.maxRead.Load()
		if int64(len(p)) <= m || b.maxRead.CompareAndSwap(m, int64(len(p))) {
			break
		}
	}
	if b.failAt > 0 && off+int64(len(p)) > b.failAt {
		return 0, errInjected
	}
	return bytes.NewReader(b.data).ReadAt(p, off)
}

func randomBytes(n int, seed int64) []byte {
	p := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(p)
	return p
}

func TestCachedReaderAtMatchesData(t *testing.T) {
	data := randomBytes(5*4096+123, 1)
	blob := &countingBlob{data: data}
	c := NewCachedReaderAt(blob, 4096, 3)
	if err := iotest.TestReader(io.NewSectionReader(c, 0, c.Size()), data); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 2000; i++ {
		off := rng.Int63n(int64(len(data)) + 10)
		n := rng.Intn(9000)
		p := make([]byte, n)
		got, err := c.ReadAt(p, off)
		want := 0
		if off < int64(len(data)) {
			want = min(n, len(data)-int(off))
		}
		if got != want {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, want %d", n, off, got, want)
		}
		if got > 0 && !bytes.Equal(p[:got], data[off:off+int64(got)]) {
			t.Fatalf("ReadAt(%d bytes at %d): wrong bytes", n, off)
		}
		if got < n && err != io.EOF {
			t.Fatalf("short ReadAt at %d: err %v, want io.EOF", off, err)
		}
		if got == n && n > 0 && err != nil {
			t.Fatalf("full ReadAt at %d: err %v", off, err)
		}
	}
}

func TestCachedReaderAtBatchesSmallReads(t *testing.T) {
	data := randomBytes(64<<10, 3)
	blob := &countingBlob{data: data}
	c := NewCachedReaderAt(blob, 16<<10, 2)
	// 512-byte reads front to back, like a tar reader walking headers.
	h := sha256.New()
	if _, err := io.CopyBuffer(h, io.NewSectionReader(c, 0, c.Size()), make([]byte, 512)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(h.Sum(nil), sha256sum(data)) {
		t.Fatal("hash of cached reads differs from hash of data")
	}
	if got := blob.reads.Load(); got != 4 {
		t.Fatalf("underlying reads = %d, want 4 (one per 16 KiB block)", got)
	}
	if got := len(c.blocks); got > 2 {
		t.Fatalf("cache holds %d blocks, limit 2", got)
	}
}

func TestCachedReaderAtConcurrent(t *testing.T) {
	data := randomBytes(1<<20, 4)
	c := NewCachedReaderAt(&countingBlob{data: data}, 8<<10, 4)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			off := int64(g) * int64(len(data)) / 8
			n := int64(len(data)) / 8
			got, err := io.ReadAll(io.NewSectionReader(c, off, n))
			if err != nil {
				errs <- err
				return
			}
			if !bytes.Equal(got, data[off:off+n]) {
				errs <- errors.New("concurrent reader got wrong bytes")
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestCachedReaderAtPropagatesErrors(t *testing.T) {
	data := randomBytes(100<<10, 5)
	c := NewCachedReaderAt(&countingBlob{data: data, failAt: 50 << 10}, 4096, 2)
	_, err := io.ReadAll(io.NewSectionReader(c, 0, c.Size()))
	if !errors.Is(err, errInjected) {
		t.Fatalf("err = %v, want the blob's read error", err)
	}
	if _, err := c.ReadAt(make([]byte, 10), -1); err == nil {
		t.Fatal("negative offset accepted")
	}
}

func TestSeqReader(t *testing.T) {
	data := randomBytes(3*1000+7, 6)
	blob := &countingBlob{data: data}
	s := NewSeqReader(blob, 10, 1000)
	defer s.Close()
	if err := iotest.TestReader(s, data[10:]); err != nil {
		t.Fatal(err)
	}
	if got := blob.maxRead.Load(); got > 1000 {
		t.Fatalf("largest underlying read %d exceeds the block size", got)
	}
}

func TestSeqReaderError(t *testing.T) {
	data := randomBytes(10_000, 7)
	s := NewSeqReader(&countingBlob{data: data, failAt: 5000}, 0, 1000)
	defer s.Close()
	got, err := io.ReadAll(s)
	if !errors.Is(err, errInjected) {
		t.Fatalf("err = %v, want the blob's read error", err)
	}
	if !bytes.Equal(got, data[:len(got)]) || len(got) != 5000 {
		t.Fatalf("read %d bytes before the error, want the 5000 good bytes", len(got))
	}
}

func TestSeqReaderCloseStopsReadAhead(t *testing.T) {
	s := NewSeqReader(&countingBlob{data: randomBytes(1<<20, 8)}, 0, 1024)
	if _, err := s.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close() // idempotent
}

func sha256sum(p []byte) []byte {
	h := sha256.Sum256(p)
	return h[:]
}

func memBlob(s string) Blob { return &countingBlob{data: []byte(s)} }

func TestFSPassesFSTest(t *testing.T) {
	big := randomBytes(3*DefaultBlockSize+17, 9)
	fsys, err := NewFS(map[string]Blob{
		"layout/oci-layout":                  memBlob(`{"imageLayoutVersion":"1.0.0"}`),
		"layout/index.json":                  memBlob(`{}`),
		"layout/blobs/sha256/aaaa":           memBlob("hello"),
		"layout/blobs/sha256/bbbb":           &countingBlob{data: big},
		"layout/blobs/sha256/empty":          memBlob(""),
		"layout/blobs/sha512/nested/deep/cc": memBlob("x"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "oci-layout", "index.json", "blobs/sha256/aaaa", "blobs/sha256/bbbb",
		"blobs/sha256/empty", "blobs/sha512/nested/deep/cc"); err != nil {
		t.Fatal(err)
	}
	got, err := fs.ReadFile(fsys, "blobs/sha256/bbbb")
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("ReadFile of a multi-block file: %v, equal=%v", err, bytes.Equal(got, big))
	}
}

func TestFSStripsOnlyCommonRoot(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []string
	}{
		{[]string{"img/index.json", "img/blobs/sha256/a"}, []string{"index.json", "blobs/sha256/a"}},
		{[]string{"./a/b/index.json"}, []string{"index.json"}},
		{[]string{"index.json", "blobs/sha256/a"}, []string{"index.json", "blobs/sha256/a"}},
		{[]string{"x/index.json", "y/index.json"}, []string{"x/index.json", "y/index.json"}},
		{[]string{"/abs/index.json", "/abs/oci-layout"}, []string{"index.json", "oci-layout"}},
	} {
		m := map[string]Blob{}
		for _, p := range tc.in {
			m[p] = memBlob(p)
		}
		fsys, err := NewFS(m)
		if err != nil {
			t.Fatalf("%v: %v", tc.in, err)
		}
		for i, p := range tc.want {
			got, err := fs.ReadFile(fsys, p)
			if err != nil {
				t.Fatalf("%v: %v", tc.in, err)
			}
			if string(got) != tc.in[i] {
				t.Fatalf("%v: %s holds %q, want %q", tc.in, p, got, tc.in[i])
			}
		}
	}
}

func TestFSRejectsBadPaths(t *testing.T) {
	for _, bad := range []map[string]Blob{
		{"a/../index.json": memBlob("")},
		{"a//b": memBlob("")},
		{"": memBlob("")},
		{"a/b": memBlob(""), "a": memBlob("")},
		{"/a/b": memBlob(""), "a/b": memBlob("")},
	} {
		if _, err := NewFS(bad); err == nil {
			t.Errorf("NewFS(%v) accepted", bad)
		}
	}
}

func TestFileSeekAndReadAt(t *testing.T) {
	data := randomBytes(2*DefaultBlockSize+5, 10)
	fsys, err := NewFS(map[string]Blob{"f": &countingBlob{data: data}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := fsys.Open("f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs := f.(io.ReadSeeker)
	p := make([]byte, 100)
	if _, err := io.ReadFull(rs, p); err != nil || !bytes.Equal(p, data[:100]) {
		t.Fatalf("first read: %v", err)
	}
	if _, err := rs.Seek(DefaultBlockSize+3, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rs, p); err != nil || !bytes.Equal(p, data[DefaultBlockSize+3:DefaultBlockSize+103]) {
		t.Fatalf("read after seek: %v", err)
	}
	if _, err := f.(io.ReaderAt).ReadAt(p, 7); err != nil || !bytes.Equal(p, data[7:107]) {
		t.Fatalf("ReadAt: %v", err)
	}
	if n, err := f.(io.ReaderAt).ReadAt(p, int64(len(data))-10); n != 10 || err != io.EOF {
		t.Fatalf("ReadAt past the end = %d, %v; want 10, EOF", n, err)
	}
}

// Locate finds the blob behind an unread file or archive section, and
// nothing once reading started or for other readers.
func TestLocate(t *testing.T) {
	b := &countingBlob{data: bytes.Repeat([]byte("x"), 1000)}
	fsys, err := NewFS(map[string]Blob{"d/blob": b})
	if err != nil {
		t.Fatal(err)
	}
	f, err := fsys.Open("blob")
	if err != nil {
		t.Fatal(err)
	}
	if got, off, n, ok := Locate(f.(io.Reader)); !ok || got != b || off != 0 || n != 1000 {
		t.Fatalf("unread file: %v %d %d %v", got == b, off, n, ok)
	}
	if _, err := f.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, ok := Locate(f.(io.Reader)); ok {
		t.Fatal("located a file that was partly read")
	}
	c := NewCachedReaderAt(b, 0, 0)
	sr := io.NewSectionReader(c, 100, 200)
	if got, off, n, ok := Locate(sr); !ok || got != b || off != 100 || n != 200 {
		t.Fatalf("section: %v %d %d %v", got == b, off, n, ok)
	}
	if _, err := sr.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, ok := Locate(sr); ok {
		t.Fatal("located a section that was partly read")
	}
	for _, r := range []io.Reader{io.NewSectionReader(bytes.NewReader(b.data), 0, 10), bytes.NewReader(b.data)} {
		if _, _, _, ok := Locate(r); ok {
			t.Fatalf("located a %T", r)
		}
	}
}
