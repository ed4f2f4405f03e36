package domain

import "reflect"

// LooseEqual is reflect.DeepEqual, except that a nil list or map equals an empty one (the API
// gives lists back as [], which a stored configuration decodes as nil), and it reads
// unexported fields (Secret's) without calling their methods.
func LooseEqual(a, b any) bool { return looseEqual(reflect.ValueOf(a), reflect.ValueOf(b)) }

func looseEqual(a, b reflect.Value) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Interface, reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return looseEqual(a.Elem(), b.Elem())
	case reflect.Struct:
		for i := range a.NumField() {
			if !looseEqual(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !looseEqual(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		for it := a.MapRange(); it.Next(); {
			v := b.MapIndex(it.Key())
			if !v.IsValid() || !looseEqual(it.Value(), v) {
				return false
			}
		}
		return true
	default: // scalars, read without Interface, which unexported fields refuse
		return a.Equal(b)
	}
}
