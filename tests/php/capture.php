<?php declare(strict_types=1);
/*
 * Captures what wechatpay-php 1.4.12 sends for the cases of tests/php_fidelity.rs.
 *
 * Documentation of the method only: not run in CI. The literals in
 * tests/php_fidelity.rs were copied from this script's output.
 *
 * Setup (Debian 12, PHP 8.2, Guzzle 7.4.5):
 *   apt-get install -y php-cli php-curl php-xml php-mbstring php-guzzlehttp-guzzle
 *   git --git-dir=<wechatpay-apiv3/wechatpay-php mirror> archive v1.4.12 | tar -x -C /tmp/wpphp
 *   git --git-dir=<guzzle/uri-template mirror> archive HEAD | tar -x -C /tmp/uritpl
 *   php tests/php/capture.php > /tmp/php-captures.json
 *
 * Each request goes through PHP's own handler stack (signer, prepare_body) into a
 * Guzzle MockHandler; a history middleware pushed last sees the request exactly as
 * it would be sent: target, headers, body. Which bytes PHP signed is found by
 * checking the Authorization signature against the candidates.
 */

require_once '/usr/share/php/GuzzleHttp/autoload.php';
spl_autoload_register(static function (string $class): void {
    foreach (['WeChatPay\\' => '/tmp/wpphp/src/', 'GuzzleHttp\\UriTemplate\\' => '/tmp/uritpl/src/'] as $prefix => $dir) {
        if (0 === strpos($class, $prefix)) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) { require $file; }
        }
    }
});

use GuzzleHttp\Handler\MockHandler;
use GuzzleHttp\HandlerStack;
use GuzzleHttp\Middleware;
use GuzzleHttp\Psr7\FnStream;
use GuzzleHttp\Psr7\MultipartStream;
use GuzzleHttp\Psr7\Response;
use GuzzleHttp\Psr7\Utils;
use WeChatPay\Builder;
use WeChatPay\Crypto\Hash;
use WeChatPay\Crypto\Rsa;
use WeChatPay\Transformer;

$keys = dirname(__DIR__) . '/fixtures/keys';
$mchid = '1900000001';
$serial = '3775B6A45ACD588826D15E583A95F5DD00000001';
$secret = 'exposed_your_key_here_have_risks';
$merchantPem = file_get_contents("$keys/merchant_private.pem");
$merchantPublic = Rsa::from("file://$keys/merchant_public.pem", Rsa::KEY_TYPE_PUBLIC);
$platformPublic = Rsa::from("file://$keys/platform_public.pem", Rsa::KEY_TYPE_PUBLIC);

$history = [];
$stack = HandlerStack::create(new MockHandler(array_fill(0, 32, new Response(204))));
$stack->push(Middleware::history($history), 'history');
$instance = Builder::factory([
    'mchid' => $mchid,
    'serial' => $serial,
    'privateKey' => Rsa::from($merchantPem),
    'certs' => ['PUB_KEY_ID_0112345678902024000000000000' => $platformPublic],
    'secret' => $secret,
    'handler' => $stack,
    'http_errors' => false,
]);

/** The last request sent: target, headers (Authorization and User-Agent aside), body, what was signed. */
function sent(array $history, array $candidates = []): array {
    global $merchantPublic;
    $request = end($history)['request'];
    $body = $request->getBody();
    $body->isSeekable() && $body->rewind();
    $bytes = $body->getContents();
    $headers = [];
    foreach ($request->getHeaders() as $name => $values) {
        if (!in_array($name, ['Authorization', 'User-Agent'], true)) { $headers[$name] = implode(', ', $values); }
    }
    $out = ['target' => $request->getRequestTarget(), 'headers' => $headers, 'body' => $bytes];
    $auth = $request->getHeaderLine('Authorization');
    if ($auth && preg_match_all('#(\w+)="([^"]*)"#', $auth, $m)) {
        $a = array_combine($m[1], $m[2]);
        foreach (array_merge(['(body)' => $bytes], $candidates) as $label => $candidate) {
            $message = implode("\n", [$request->getMethod(), $request->getRequestTarget(), $a['timestamp'], $a['nonce_str'], $candidate, '']);
            if (Rsa::verify($message, $a['signature'], $merchantPublic)) { $out['signed'] = $label === '(body)' ? $bytes : $candidate; }
        }
    }
    return $out;
}

$out = [];
// The mock answers are unsigned, so PHP's verifier rejects them: only the request matters.
$send = static function (callable $call): void { try { $call(); } catch (\Throwable $e) {} };

// 1. Trailing slashes: chain(), index, and `->_empty_` in a property chain.
$send(fn () => $instance->chain('v3/applyment4sub/applyment/')->post(['json' => ['business_code' => 'X']]));
$out['trailing_chain'] = sent($history);
$send(fn () => $instance['v3/ecommerce/applyments/']->post(['json' => ['out_request_no' => 'Y']]));
$out['trailing_index'] = sent($history);
$send(fn () => $instance->v3->applyment4sub->applyment->_empty_->post(['json' => ['business_code' => 'X']]));
$out['trailing_property'] = sent($history);

// 2. Query values as Guzzle builds them (http_build_query, RFC 3986).
$send(fn () => $instance->chain('v3/marketing/busifavor/users/{openid}/coupons')->get(['openid' => 'o1', 'query' => [
    't' => true, 'f' => false, 'arr' => ['a', 'b'], 'm' => ['k' => 'v', 'n' => ['x' => 1]], 'skipped' => null, 'num' => 5, 's' => 'a b/先',
    'whole' => 2.0, 'half' => 1.5, 'empty' => [],
]]));
$out['query_forms'] = sent($history);

// 3. Default headers (GET without body, POST with JSON).
$send(fn () => $instance->chain('v3/certificates')->get());
$out['default_headers_get'] = sent($history);

// 3b. JSON as Guzzle encodes it (json_encode without flags: `\uXXXX`, `\/`).
$send(fn () => $instance->chain('v3/marketing/partnerships/build')->post(['json' => ['d' => '先/']]));
$out['json_escapes'] = sent($history);

// 3c. A base_uri path prefix with and without its trailing slash (RFC 3986
// resolution of the relative `v3/…`).
foreach (['hk_slash' => 'https://apihk.mch.weixin.qq.com/hk/', 'hk_bare' => 'https://apihk.mch.weixin.qq.com/hk'] as $label => $base) {
    $send(fn () => $instance->chain('v3/global/refunds')->get(['base_uri' => $base]));
    $out['base_uri_' . $label] = sent($history);
}

// 3e. A missing placeholder value, and capitals in a chain() string.
$send(fn () => $instance->chain('v3/pay/transactions/id/{transaction_id}')->get(['query' => ['mchid' => $mchid]]));
$out['placeholder_missing'] = sent($history);
$send(fn () => $instance->chain('v3/merchantService/complaintsV2')->get());
$out['chain_capitals'] = sent($history);

// 3d. An expired platform certificate loads (tests/fixtures/keys/platform_cert_expired.pem).
$out['expired_certificate_loads'] = false !== Rsa::from("file://$keys/platform_cert_expired.pem", Rsa::KEY_TYPE_PUBLIC);

// 4. Multipart. First MediaUtil itself (random boundary), then the two catalogue
// uploads with other part names: MediaUtil only writes `meta` + `file`, so their
// parts are built as MediaUtil builds them (a meta stream of unknown size, then the
// file part) with the endpoint's names and fields, signed over the meta.
$file = "\xFF\xD8\xFF\xE0fake-jpeg";
file_put_contents('/tmp/image.jpg', $file);
$media = new \WeChatPay\Util\MediaUtil('/tmp/image.jpg');
$send(fn () => $instance->chain('v3/merchant/media/upload')->post([
    'body' => $media->getStream(), 'headers' => ['Content-Type' => $media->getContentType()],
]));
$out['upload_media_util'] = sent($history, ['meta' => $media->getMeta()]);
$sizeless = static function (string $json) {
    return FnStream::decorate(Utils::streamFor($json), ['getSize' => static function () { return null; }]);
};
$digest = strtoupper(hash('sha256', $file));
$meta = json_encode(['file_name' => 'filea.jpg', 'file_digest' => $digest, 'item_id' => 56]);
$form = new MultipartStream([
    ['name' => 'meta', 'contents' => $sizeless($meta), 'headers' => ['Content-Type' => 'application/json']],
    ['name' => 'submission_file', 'filename' => 'filea.jpg', 'contents' => $file],
    ['name' => 'item_id', 'contents' => '56'],
    ['name' => 'manage_record_id', 'contents' => '560001'],
], 'BOUNDARY');
$body = FnStream::decorate($form, ['__toString' => static function () use ($meta) { return $meta; }]);
$send(fn () => $instance->chain('v3/mch-manage/submission-files/sub-mchid/{sub_mchid}/upload')->post([
    'sub_mchid' => '123000110', 'body' => $body, 'headers' => ['Content-Type' => 'multipart/form-data; boundary=BOUNDARY'],
]));
$out['upload_submission'] = sent($history, ['meta' => $meta]);

$meta2 = json_encode(['file_name' => 'image.jpg', 'file_digest' => $digest, 'sub_mchid' => '1230001104', 'item_id' => 130013]);
$form = new MultipartStream([
    ['name' => 'meta', 'contents' => $sizeless($meta2), 'headers' => ['Content-Type' => 'application/json']],
    ['name' => 'due_diligence_file', 'filename' => 'image.jpg', 'contents' => $file],
], 'BOUNDARY');
$body = FnStream::decorate($form, ['__toString' => static function () use ($meta2) { return $meta2; }]);
$send(fn () => $instance->chain('v3/mch-operation-manage/enhanced-due-diligence/{due_diligence_id}/upload')->post([
    'due_diligence_id' => '123000110_2_2190381dakdajois1283i12jo', 'body' => $body,
    'headers' => ['Content-Type' => 'multipart/form-data; boundary=BOUNDARY'],
]));
$out['upload_due_diligence'] = sent($history, ['meta' => $meta2]);

// 5. The v2 upload, as the catalogue's PHP doc writes it (`contents`, not its typo
// `content`), without the XML transformer.
$v2stack = $instance->getDriver()->select('v2')->getConfig('handler');
$v2stack->remove('transform_request');
$md5 = Utils::hash(Utils::streamFor($file), 'md5');
foreach (['MD5', 'HMAC-SHA256'] as $type) {
    $form = new MultipartStream([
        ['name' => 'media', 'contents' => $file, 'filename' => 'image.jpg'],
        ['name' => 'mch_id', 'contents' => $mchid],
        ['name' => 'media_hash', 'contents' => $md5],
        ['name' => 'sign_type', 'contents' => $type],
        ['name' => 'sign', 'contents' => Hash::sign($type, "mch_id=$mchid&media_hash=$md5&sign_type=$type", $secret)],
    ], 'BOUNDARY');
    $send(fn () => $instance->v2->secapi->mch->uploadmedia->post(['handler' => $v2stack, 'body' => $form,
        'headers' => ['Content-Type' => 'multipart/form-data; boundary=BOUNDARY']]));
    $out['upload_v2_' . $type] = sent($history);
}

// 6. XML: Transformer both ways, and a v2 POST with booleans and lists.
$out['xml_to_array'] = Transformer::toArray('<xml><a>1</a><a>2</a><b><c>x</c></b><d></d><e><f>1</f><f>2</f></e></xml>');
$out['xml_to_xml'] = Transformer::toXml([
    't' => true, 'f' => false, 'n' => 5, 'list' => ['a', 'b'],
    'objs' => [['k' => 'v'], ['k' => 'w']], 'm' => ['k' => 'v'], 'c' => 'a<b',
]);
$instance2 = Builder::factory([
    'mchid' => $mchid, 'serial' => $serial, 'privateKey' => Rsa::from($merchantPem),
    'certs' => ['PUB_KEY_ID_0112345678902024000000000000' => $platformPublic], 'secret' => $secret,
    'handler' => (static function () use (&$history) {
        $s = HandlerStack::create(new MockHandler(array_fill(0, 4, new Response(204))));
        $s->push(Middleware::history($history), 'history');
        return $s;
    })(),
]);
$send(fn () => $instance2->v2->pay->micropay->post(['xml' => [
    'mch_id' => $mchid, 'nonce_str' => 'N0NCE', 'appid' => 'wx8888888888888888', 'total_fee' => 888,
    'receipt' => true, 'profit_sharing' => false, 'body' => 'a&b',
]]));
$out['v2_booleans'] = sent($history);

// 7. Keys in every form Rsa::from takes: each signs the same message; PKCS#1 forms
// come from `openssl rsa -traditional` / `openssl rsa -pubin -RSAPublicKey_out`.
$b64 = static function (string $pem): string { return preg_replace('#-{5}[^-]+-{5}|\s#', '', $pem); };
$pkcs1 = file_get_contents("$keys/merchant_private_pkcs1.pem"); // openssl rsa -traditional
$pub = file_get_contents("$keys/merchant_public.pem");
$pubPkcs1 = shell_exec("openssl rsa -pubin -in $keys/merchant_public.pem -RSAPublicKey_out 2>/dev/null");
$message = "GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n";
$forms = [
    'pem_pkcs8' => $merchantPem,
    'pem_pkcs1' => $pkcs1,
    'file' => "file://$keys/merchant_private.pem",
    'private.pkcs8' => 'private.pkcs8://' . $b64($merchantPem),
    'private.pkcs1' => 'private.pkcs1://' . $b64($pkcs1),
    'encrypted' => ["file://$keys/merchant_private_encrypted.pem", 'wechatpay-port'],
];
foreach ($forms as $label => $thing) {
    $out['key_' . $label] = Rsa::sign($message, Rsa::from($thing));
}
$signature = $out['key_pem_pkcs8'];
foreach (['public.spki' => 'public.spki://' . $b64($pub), 'public.pkcs1' => 'public.pkcs1://' . $b64($pubPkcs1), 'pem_pkcs1' => $pubPkcs1] as $label => $thing) {
    $out['public_' . $label] = Rsa::verify($message, $signature, Rsa::from($thing, Rsa::KEY_TYPE_PUBLIC));
}
$out['key_message'] = $message;

echo json_encode($out, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE), "\n";
