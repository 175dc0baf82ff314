package verify

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"testing"
	"testing/iotest"
)

func TestAsyncWriterDeliversEverythingInOrder(t *testing.T) {
	data := make([]byte, 3*chunkSize+12345)
	rand.New(rand.NewSource(1)).Read(data)
	var dst bytes.Buffer
	a := newAsyncWriter(&dst)
	for p := data; len(p) > 0; {
		n := min(len(p), 100000)
		a.Write(p[:n])
		p = p[n:]
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst.Bytes(), data) {
		t.Fatal("bytes differ")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("boom") }

func TestAsyncWriterReportsTheDestinationError(t *testing.T) {
	a := newAsyncWriter(failWriter{})
	a.Write(make([]byte, 10*chunkSize))
	if err := a.Close(); err == nil || err.Error() != "boom" {
		t.Fatalf("got %v, want boom", err)
	}
}

func TestReadAhead(t *testing.T) {
	data := make([]byte, 5*chunkSize+7)
	rand.New(rand.NewSource(2)).Read(data)
	ra := newReadAhead(iotest.HalfReader(bytes.NewReader(data)))
	defer ra.Close()
	if err := iotest.TestReader(ra, data); err != nil {
		t.Fatal(err)
	}
	errRead := errors.New("read failed")
	ra2 := newReadAhead(io.MultiReader(bytes.NewReader(data[:100]), iotest.ErrReader(errRead)))
	defer ra2.Close()
	got, err := io.ReadAll(ra2)
	if !errors.Is(err, errRead) || !bytes.Equal(got, data[:100]) {
		t.Fatalf("got %d bytes and %v", len(got), err)
	}
}
