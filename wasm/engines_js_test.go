package main

import (
	"strings"
	"syscall/js"
	"testing"
)

// blobResultObject makes a JavaScript blob-engine result; edit changes it.
func blobResultObject(edit func(o js.Value)) js.Value {
	u8 := func(n int, fill byte) js.Value {
		a := uint8Array.New(n)
		b := make([]byte, n)
		for i := range b {
			b[i] = fill
		}
		js.CopyBytesToJS(a, b)
		return a
	}
	o := js.Global().Get("Object").New()
	o.Set("size", 2048)
	o.Set("sha256", u8(32, 1))
	o.Set("magic", u8(8, 0x1f))
	o.Set("tail", u8(8, 2))
	o.Set("gzip", true)
	o.Set("output", 4096)
	o.Set("outputSHA256", u8(32, 3))
	o.Set("outputCRC32", 0xfffffffe)
	o.Set("head", u8(512, 4))
	if edit != nil {
		edit(o)
	}
	return o
}

// A blob engine's result is read field by field, and a malformed one is an
// error (an engine failure), never a partly read result.
func TestParseBlobResult(t *testing.T) {
	r, err := parseBlobResult(blobResultObject(nil))
	if err != nil {
		t.Fatal(err)
	}
	if r.Size != 2048 || r.SHA256[31] != 1 || len(r.Magic) != 8 || r.Tail[7] != 2 || !r.Gzip ||
		r.Output != 4096 || r.OutputSHA256[0] != 3 || r.OutputCRC32 != 0xfffffffe || len(r.Head) != 512 {
		t.Fatalf("read %+v", r)
	}
	if r, err := parseBlobResult(js.Null()); r != nil || err != nil {
		t.Fatalf("null: %v %v, want a declined blob", r, err)
	}
	bad := map[string]func(o js.Value){
		"sha256 of 31 bytes":   func(o js.Value) { o.Set("sha256", uint8Array.New(31)) },
		"magic of 9 bytes":     func(o js.Value) { o.Set("magic", uint8Array.New(9)) },
		"head of 513 bytes":    func(o js.Value) { o.Set("head", uint8Array.New(513)) },
		"tail as an array":     func(o js.Value) { o.Set("tail", js.ValueOf([]any{1, 2, 3, 4, 5, 6, 7, 8})) },
		"fractional size":      func(o js.Value) { o.Set("size", 1.5) },
		"negative output":      func(o js.Value) { o.Set("output", -1) },
		"size as a string":     func(o js.Value) { o.Set("size", "2048") },
		"CRC-32 past 32 bits":  func(o js.Value) { o.Set("outputCRC32", float64(1<<32)) },
		"no output digest":     func(o js.Value) { o.Delete("outputSHA256") },
		"size past 2^53 bytes": func(o js.Value) { o.Set("size", float64(1<<54)) },
	}
	for name, edit := range bad {
		if r, err := parseBlobResult(blobResultObject(edit)); err == nil || r != nil {
			t.Errorf("%s: accepted (%+v)", name, r)
		} else if !strings.Contains(err.Error(), "blob engine") {
			t.Errorf("%s: error %q does not name the blob engine", name, err)
		}
	}
	if _, err := parseBlobResult(js.ValueOf(3)); err == nil {
		t.Error("a number was accepted as a result")
	}
	// Without gzip, the output fields are not read at all.
	r, err = parseBlobResult(blobResultObject(func(o js.Value) { o.Set("gzip", false); o.Delete("outputSHA256") }))
	if err != nil || r.Gzip || r.Output != 0 {
		t.Fatalf("plain blob: %+v, %v", r, err)
	}
}
