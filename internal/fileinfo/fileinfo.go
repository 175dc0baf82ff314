// Package fileinfo is the fs.FileInfo and fs.DirEntry of imgproof's
// read-only file systems that are not on disk: registry's (fetched on
// demand), the browser's (Blobs) and the fixtures' (byte maps). Those file
// systems differ in how they find and read a file, so they stay apart;
// what a file or directory reports about itself does not.
package fileinfo

import (
	"io/fs"
	"time"
)

// Info describes a read-only file or directory: a name, a size and a
// fixed modification time.
type Info struct {
	name string
	size int64
	dir  bool
	mod  time.Time
}

// File describes a regular file of size bytes.
func File(name string, size int64) Info { return Info{name: name, size: size} }

// Dir describes a directory.
func Dir(name string) Info { return Info{name: name, dir: true} }

// At returns the info with its modification time set to t; it is the zero
// time otherwise.
func (i Info) At(t time.Time) Info { i.mod = t; return i }

func (i Info) Name() string { return i.name }
func (i Info) Size() int64  { return i.size }

// Mode is 0444 for a file and a directory with 0555.
func (i Info) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (i Info) ModTime() time.Time         { return i.mod }
func (i Info) IsDir() bool                { return i.dir }
func (i Info) Sys() any                   { return nil }
func (i Info) Type() fs.FileMode          { return i.Mode().Type() }
func (i Info) Info() (fs.FileInfo, error) { return i, nil }
func (i Info) String() string             { return fs.FormatFileInfo(i) }
