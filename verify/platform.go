package verify

import "strings"

// ParsePlatform reads os/arch[/variant], as --platform and the module's
// platform option take it. Every part must be non-empty; it reports false
// otherwise, and each face words its own error.
func ParsePlatform(s string) (Platform, bool) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return Platform{}, false
	}
	for _, x := range parts {
		if x == "" {
			return Platform{}, false
		}
	}
	p := Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, true
}
