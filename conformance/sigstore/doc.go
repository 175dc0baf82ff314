// Package sigstore drives the sigstore-conformance verification cases
// through the imgproof command line, with the suite's client protocol:
//
//	imgproof verify-bundle --bundle FILE --certificate-identity IDENTITY \
//	    --certificate-oidc-issuer URL [--trusted-root FILE] FILE_OR_DIGEST
//	imgproof verify-bundle --bundle FILE --key FILE [--trusted-root FILE] FILE_OR_DIGEST
//
// The cases are read from ../shared/testdata/sigstore-conformance relative
// to the repository root; each folder whose name ends in _fail must fail,
// every other folder must verify. The package holds only the test.
package sigstore
