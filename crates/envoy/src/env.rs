//! The environment Envoy gives the plugin's VM: `vm_config.environment_variables`
//! (`host_env_keys`, copied from Envoy's own environment, and `key_values`). Envoy's proxy-wasm
//! host serves it through WASI's `environ_sizes_get` and `environ_get`, to any module that
//! imports them: this one is built for `wasm32-unknown-unknown` (no WASI libc) and imports just
//! those two. The host has no WASI file system (proxy-wasm-cpp-host's `fd_prestat_get` answers
//! EBADF, its `path_open` ENOENT), so a filter reads no files: the environment is all it can
//! know of the machine.

use std::collections::HashMap;

/// The VM's environment variables (empty when Envoy gives none).
#[cfg(target_arch = "wasm32")]
pub fn vm_environment() -> HashMap<String, String> {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    unsafe extern "C" {
        fn environ_sizes_get(count: *mut usize, size: *mut usize) -> i32;
        fn environ_get(environ: *mut *mut u8, buffer: *mut u8) -> i32;
    }
    let (mut count, mut size) = (0usize, 0usize);
    // SAFETY: the host writes one word to each pointer.
    if unsafe { environ_sizes_get(&mut count, &mut size) } != 0 || count == 0 {
        return HashMap::new();
    }
    let mut pointers = vec![std::ptr::null_mut::<u8>(); count];
    let mut buffer = vec![0u8; size];
    // SAFETY: the host writes `count` pointers into `pointers` and `size` bytes (the
    // NUL-terminated `KEY=VALUE` entries they point to) into `buffer`, as sized above.
    if unsafe { environ_get(pointers.as_mut_ptr(), buffer.as_mut_ptr()) } != 0 {
        return HashMap::new();
    }
    parse(&buffer)
}

/// `KEY=VALUE` entries, each ended by a NUL; entries that are not UTF-8 or have no `=` are
/// skipped.
pub fn parse(buffer: &[u8]) -> HashMap<String, String> {
    buffer
        .split(|b| *b == 0)
        .filter_map(|entry| std::str::from_utf8(entry).ok()?.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_wasi_environment_block() {
        let env = super::parse(b"AWS_REGION=eu-west-1\0EMPTY=\0A=b=c\0junk\0\xff=x\0");
        assert_eq!(env.get("AWS_REGION").map(String::as_str), Some("eu-west-1"));
        assert_eq!(env.get("EMPTY").map(String::as_str), Some(""));
        assert_eq!(env.get("A").map(String::as_str), Some("b=c"));
        assert_eq!(env.len(), 3);
    }
}
