<?php
// The floats of tests/fixtures/php_floats.tsv: IEEE-754 bits (big-endian hex), then
// the text PHP's (string) cast gives (precision=14).
// Run: php tests/php/floats.php > tests/fixtures/php_floats.tsv
mt_srand(2026);
$values = [0.0, -0.0, 2.0, -3.0, 0.5, 0.1, 0.1 + 0.2, 1/3, 100.0, 1e13, 1e14, 1e15, 1e22,
  99999999999999.5, 12345678901234.5, 12345678901235.5, 9.99999999999995e14, 123456789012345.0,
  0.0001, 0.00012345678901234567, 1e-5, 2.5e-7, 1e-10, 5e-324, 1.7976931348623157e308,
  -1.25e20, 1.5e300, 0.30000000000000004, 99999999999999.0, 999999999999999.0, 0.00009999999999999999];
while (count($values) < 1000) {
  $m = mt_rand(1, PHP_INT_MAX) / PHP_INT_MAX * 10;
  $e = mt_rand(-30, 30);
  $f = $m * (10 ** $e);
  if (mt_rand(0, 3) == 0) { $f = round($f, mt_rand(0, 6)); }
  if (mt_rand(0, 1)) { $f = -$f; }
  $values[] = $f;
}
foreach ($values as $f) {
  echo bin2hex(pack('E', $f)), "\t", (string) $f, "\n";
}
