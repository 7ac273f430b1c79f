fn main() {
    let _ = wechatpay_chain::sandbox::PLACEHOLDER;
}
