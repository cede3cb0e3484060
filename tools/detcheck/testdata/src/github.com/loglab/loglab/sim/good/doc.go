// Package good uses only what simulated code may use; detcheck must stay
// silent on it.
package good
