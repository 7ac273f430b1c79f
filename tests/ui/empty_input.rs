// `chain!()` has neither a receiver nor a path.
use wechatpay_chain::chain;

fn main() {
    let _chain = chain!();
}
