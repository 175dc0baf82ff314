package attest_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/fixtures"
)

// TestReportJSON: a run's report encodes as the verifier's report with the
// attestations as one more member, last, and decodes to the same bytes; a
// run that looked for no claim encodes as the verifier's report alone.
func TestReportJSON(t *testing.T) {
	s := newSigner(t, "trusted")
	l := newLayout(t, fixtures.Default())
	l.cosignSig(s, simplePayload(l.manifest.String()))
	rep := l.run(&attest.Options{Keys: []*keys.Key{s.key}})
	if len(rep.Attestations) != 1 || rep.Attestations[0].Status != attest.StatusVerified {
		t.Fatalf("want one verified signature: %+v", rep.Attestations)
	}
	got := mustMarshal(t, rep)
	core := mustMarshal(t, rep.Report)
	atts := mustMarshal(t, rep.Attestations)
	want := append(append(append(bytes.TrimSuffix(core, []byte("}")), `,"attestations":`...), atts...), '}')
	if !bytes.Equal(got, want) {
		t.Fatalf("report JSON\n%s\nwant the verifier's report and then the attestations\n%s", got, want)
	}
	var back attest.Report
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if again := mustMarshal(t, &back); !bytes.Equal(again, got) {
		t.Fatalf("decoded and encoded again\n%s\nwant\n%s", again, got)
	}

	none := l.runWith(nil, nil)
	if none.Attestations != nil {
		t.Fatalf("no options, yet claims were checked: %+v", none.Attestations)
	}
	if got, core := mustMarshal(t, none), mustMarshal(t, none.Report); !bytes.Equal(got, core) {
		t.Fatalf("without claims the report JSON\n%s\ndiffers from the verifier's\n%s", got, core)
	}
}
