//go:build !js

package intotolayout

import (
	"errors"
	"testing"

	"github.com/imgproof/imgproof/verify"
)

// TestErrorFinding: each kind of failed check becomes its own code and
// severity; only a product that does not match is located at the product.
func TestErrorFinding(t *testing.T) {
	cause := errors.New("cause")
	for _, c := range []struct {
		err      Error
		code     verify.Code
		severity verify.Severity
		path     string
	}{
		{Error{Check: "layout-signature", Kind: ErrVerify, Err: cause}, CodeVerification, verify.SeverityError, "root.layout"},
		{Error{Check: "layout-parse", Kind: ErrMalformed, Err: cause}, CodeMalformed, verify.SeverityError, "root.layout"},
		{Error{Check: "inspections", Kind: ErrUnverifiable, Err: cause}, CodeInspectionsNotRun, verify.SeverityUnverifiable, "root.layout"},
		{Error{Check: "product", Kind: ErrUnverifiable, Err: cause}, CodeUnverifiable, verify.SeverityUnverifiable, "root.layout"},
		{Error{Check: "product", Kind: ErrVerify, Err: cause}, CodeProductMismatch, verify.SeverityError, "app.tar"},
	} {
		f := c.err.Finding("root.layout", "app.tar")
		if f.Code != c.code || f.Severity != c.severity || f.Path != c.path || f.Message != c.err.Check+": cause" {
			t.Errorf("%s (%v): finding %+v, want %s (%s) at %s", c.err.Check, c.err.Kind, f, c.code, c.severity, c.path)
		}
	}
}
