package policy

import "sync"

// sync1 memoises a constructor.
func sync1[T any](f func() (T, error)) func() (T, error) {
	var once sync.Once
	var v T
	var err error
	return func() (T, error) {
		once.Do(func() { v, err = f() })
		return v, err
	}
}
