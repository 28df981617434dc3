//! The memory tier: an LRU bounded by entry count and total bytes.
//!
//! Not `cached::SizedCache`: it bounds entries only, evicts silently when full (no way to
//! keep a byte total in step) and does not expose its least-recently-used end, so a byte
//! bound on top of it would need an O(n) scan per insert.

use super::entry::Entry;
use super::key::CacheKey;
use std::collections::HashMap;
use std::sync::Arc;

const NIL: usize = usize::MAX;

struct Slot {
    key: CacheKey,
    value: Arc<Entry>,
    size: u64,
    prev: usize,
    next: usize,
}

pub(crate) struct Lru {
    map: HashMap<CacheKey, usize>,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    head: usize,
    tail: usize,
    bytes: u64,
    max_entries: usize,
    max_bytes: u64,
}

impl Lru {
    pub fn new(max_entries: usize, max_bytes: u64) -> Self {
        Lru {
            map: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            bytes: 0,
            max_entries,
            max_bytes,
        }
    }

    fn slot(&self, i: usize) -> &Slot {
        self.slots[i].as_ref().expect("linked slot is occupied")
    }

    fn slot_mut(&mut self, i: usize) -> &mut Slot {
        self.slots[i].as_mut().expect("linked slot is occupied")
    }

    fn unlink(&mut self, i: usize) {
        let (prev, next) = {
            let s = self.slot(i);
            (s.prev, s.next)
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.slot_mut(prev).next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.slot_mut(next).prev = prev;
        }
    }

    fn push_front(&mut self, i: usize) {
        let head = self.head;
        {
            let s = self.slot_mut(i);
            s.prev = NIL;
            s.next = head;
        }
        if head != NIL {
            self.slot_mut(head).prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    /// The value for `key`, marked most recently used.
    pub fn get(&mut self, key: &CacheKey) -> Option<Arc<Entry>> {
        let i = *self.map.get(key)?;
        if i != self.head {
            self.unlink(i);
            self.push_front(i);
        }
        Some(self.slot(i).value.clone())
    }

    /// Insert or replace, then evict from the cold end until within both limits. A value
    /// larger than the byte limit is not kept at all.
    pub fn insert(&mut self, key: CacheKey, value: Arc<Entry>) {
        let size = value.size();
        if self.max_entries == 0 || size > self.max_bytes {
            self.remove(&key);
            return;
        }
        if let Some(&i) = self.map.get(&key) {
            let old = self.slot(i).size;
            {
                let s = self.slot_mut(i);
                s.value = value;
                s.size = size;
            }
            self.bytes = self.bytes - old + size;
            if i != self.head {
                self.unlink(i);
                self.push_front(i);
            }
        } else {
            let slot = Slot {
                key: key.clone(),
                value,
                size,
                prev: NIL,
                next: NIL,
            };
            let i = match self.free.pop() {
                Some(i) => {
                    self.slots[i] = Some(slot);
                    i
                }
                None => {
                    self.slots.push(Some(slot));
                    self.slots.len() - 1
                }
            };
            self.map.insert(key, i);
            self.push_front(i);
            self.bytes += size;
        }
        while self.map.len() > self.max_entries || self.bytes > self.max_bytes {
            if !self.pop_back() {
                break;
            }
        }
    }

    fn remove_index(&mut self, i: usize) {
        self.unlink(i);
        if let Some(s) = self.slots[i].take() {
            self.bytes -= s.size;
            self.map.remove(&s.key);
        }
        self.free.push(i);
    }

    fn pop_back(&mut self) -> bool {
        if self.tail == NIL {
            return false;
        }
        self.remove_index(self.tail);
        true
    }

    pub fn remove(&mut self, key: &CacheKey) -> bool {
        match self.map.get(key).copied() {
            Some(i) => {
                self.remove_index(i);
                true
            }
            None => false,
        }
    }

    /// Keep only the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&CacheKey) -> bool) {
        let drop: Vec<usize> = self
            .map
            .iter()
            .filter(|(k, _)| !keep(k))
            .map(|(_, &i)| i)
            .collect();
        for i in drop {
            self.remove_index(i);
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    #[cfg(test)]
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Entry count and bytes of the entries for which `select` is true.
    pub fn usage(&self, mut select: impl FnMut(&CacheKey) -> bool) -> (u64, u64) {
        self.slots
            .iter()
            .flatten()
            .filter(|s| select(&s.key))
            .fold((0, 0), |(n, b), s| (n + 1, b + s.size))
    }
}

#[cfg(test)]
mod tests {
    use super::super::entry::Payload;
    use super::*;

    fn entry(len: usize) -> Arc<Entry> {
        Arc::new(Entry {
            cached_at: chrono::Utc::now(),
            ttl_seconds: 60,
            etag: None,
            media_type: None,
            payload: Payload::Bytes(vec![0u8; len].into()),
        })
    }

    fn key(i: usize) -> CacheKey {
        CacheKey::tags("r:1", format!("repo{i}"))
    }

    #[test]
    fn evicts_least_recently_used_by_count() {
        let mut lru = Lru::new(3, u64::MAX);
        for i in 0..3 {
            lru.insert(key(i), entry(10));
        }
        assert!(lru.get(&key(0)).is_some()); // 0 is now hot; 1 is coldest
        lru.insert(key(3), entry(10));
        assert_eq!(lru.len(), 3);
        assert!(lru.get(&key(1)).is_none());
        assert!(lru.get(&key(0)).is_some());
        assert!(lru.get(&key(2)).is_some());
        assert!(lru.get(&key(3)).is_some());
    }

    #[test]
    fn evicts_by_bytes_and_tracks_the_total() {
        let one = entry(1000).size();
        let mut lru = Lru::new(100, one * 2);
        lru.insert(key(0), entry(1000));
        lru.insert(key(1), entry(1000));
        assert_eq!(lru.bytes(), one * 2);
        lru.insert(key(2), entry(1000));
        assert_eq!(lru.len(), 2);
        assert_eq!(lru.bytes(), one * 2);
        assert!(lru.get(&key(0)).is_none());
        // Replacing a value adjusts the byte count instead of adding to it.
        lru.insert(key(2), entry(10));
        assert_eq!(lru.bytes(), one + entry(10).size());
        // Too large for the whole budget: not kept, and evicts nothing.
        lru.insert(key(9), entry(5000));
        assert!(lru.get(&key(9)).is_none());
        assert_eq!(lru.len(), 2);
    }

    #[test]
    fn zero_entries_means_no_memory_tier() {
        let mut lru = Lru::new(0, u64::MAX);
        lru.insert(key(0), entry(1));
        assert_eq!(lru.len(), 0);
        assert!(lru.get(&key(0)).is_none());
    }

    #[test]
    fn remove_and_retain_keep_links_consistent() {
        let mut lru = Lru::new(10, u64::MAX);
        for i in 0..6 {
            lru.insert(key(i), entry(1));
        }
        assert!(lru.remove(&key(3)));
        assert!(!lru.remove(&key(3)));
        lru.retain(|k| k.repository() != Some("repo0"));
        assert_eq!(lru.len(), 4);
        // Slots are reused and eviction order still works after removals.
        let mut small = Lru::new(2, u64::MAX);
        small.insert(key(0), entry(1));
        small.insert(key(1), entry(1));
        small.remove(&key(0));
        small.insert(key(2), entry(1));
        small.insert(key(3), entry(1));
        assert!(small.get(&key(1)).is_none());
        assert!(small.get(&key(2)).is_some());
        assert!(small.get(&key(3)).is_some());
        assert_eq!(small.usage(|_| true), (2, small.bytes()));
    }
}
