package fileinfo

import (
	"io/fs"
	"testing"
	"time"
)

func TestInfo(t *testing.T) {
	f := File("index.json", 42)
	if f.Name() != "index.json" || f.Size() != 42 || f.IsDir() || f.Mode() != 0o444 || f.Type() != 0 || !f.ModTime().IsZero() {
		t.Fatalf("file: %v", f)
	}
	d := Dir("blobs").At(time.Unix(1, 0))
	if !d.IsDir() || d.Mode() != fs.ModeDir|0o555 || d.Type() != fs.ModeDir || !d.ModTime().Equal(time.Unix(1, 0)) {
		t.Fatalf("dir: %v", d)
	}
	var _ fs.DirEntry = d
	if got := fs.FormatDirEntry(d); got != "d blobs/" {
		t.Fatalf("FormatDirEntry: %q", got)
	}
}
