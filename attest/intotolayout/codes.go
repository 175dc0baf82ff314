//go:build !js

package intotolayout

import (
	"errors"

	"github.com/imgproof/imgproof/verify"
)

// Finding codes of in-toto layout verification.
const (
	// CodeVerification: a check of the layout, its links or their
	// artifact rules failed.
	CodeVerification verify.Code = "E_INTOTO_VERIFICATION"
	// CodeMalformed: the layout, a link or a key cannot be parsed.
	CodeMalformed verify.Code = "E_INTOTO_MALFORMED"
	// CodeInspectionsNotRun: the layout has inspections, which run
	// commands, and they were not allowed to run (UNVERIFIABLE).
	CodeInspectionsNotRun verify.Code = "E_INTOTO_INSPECTIONS_NOT_RUN"
	// CodeProductMismatch: the product is none of the final products the
	// supply chain recorded.
	CodeProductMismatch verify.Code = "E_INTOTO_PRODUCT_MISMATCH"
	// CodeUnverifiable: a check could not run (UNVERIFIABLE).
	CodeUnverifiable verify.Code = "E_INTOTO_UNVERIFIABLE"
)

// Finding is the report's finding for the failed check, located at the
// layout, or at the product for a product that does not match.
func (e *Error) Finding(layout, product string) verify.Finding {
	f := verify.Finding{Code: CodeVerification, Severity: verify.SeverityError, Path: layout, Message: e.Error()}
	switch {
	case e.Check == "inspections" && errors.Is(e, ErrUnverifiable):
		f.Code, f.Severity = CodeInspectionsNotRun, verify.SeverityUnverifiable
	case errors.Is(e, ErrUnverifiable):
		f.Code, f.Severity = CodeUnverifiable, verify.SeverityUnverifiable
	case errors.Is(e, ErrMalformed):
		f.Code = CodeMalformed
	case e.Check == "product":
		f.Code, f.Path = CodeProductMismatch, product
	}
	return f
}
