/* An object with a thread-local variable and nothing else, built 24 times
 * (tests/meson.build): test_stackwalk loads them to make the process'
 * objects with TLS outgrow a thread's table of TLS blocks. */
__thread int gcs_test_tls_value;

int gcs_test_tls_get(void);
int gcs_test_tls_get(void) { return gcs_test_tls_value; }
