package main

import (
	"fmt"
	"math"
	"syscall/js"

	"github.com/imgproof/imgproof/internal/limits"
)

// parseLimits reads the limits option, the module's --limit: an object
// mapping limit kinds to positive whole numbers, for example
// {"manifest-document-bytes": 8388608}. Absent, the defaults apply.
func parseLimits(v js.Value) (*limits.Limits, error) {
	lim := limits.Default()
	if v.IsUndefined() || v.IsNull() {
		return &lim, nil
	}
	if v.Type() != js.TypeObject {
		return nil, fmt.Errorf("imgproof: limits must be an object mapping limit kinds to numbers")
	}
	kinds := js.Global().Get("Object").Call("keys", v)
	for i := range kinds.Length() {
		k := kinds.Index(i).String()
		n := v.Get(k)
		if n.Type() != js.TypeNumber || n.Float() != math.Trunc(n.Float()) || n.Float() > math.MaxInt64 {
			return nil, fmt.Errorf("imgproof: limits: %s must be a whole number", k)
		}
		if err := lim.Set(limits.Kind(k), int64(n.Float())); err != nil {
			return nil, fmt.Errorf("imgproof: limits: %w", err)
		}
	}
	return &lim, nil
}
