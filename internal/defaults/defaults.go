// Package defaults holds the one rule of modules' numeric options: zero
// or less means the module's default.
package defaults

// Positive sets *v to d unless *v is above zero.
func Positive[T ~int | ~int64 | ~float64](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}
