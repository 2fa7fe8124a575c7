//! The snapshot stat cache (table `snapshot_stat_cache`): workspace path → the file's
//! stat at the time it was last hashed, the capture key it was hashed under, and the
//! blob that came out (DECISIONS §2, improvement 4). [`crate::snapshot`] owns the policy
//! (what is trusted, the racy-clean rule); this file only moves rows.
//!
//! Like everything in the index it is a cache: a rebuilt index starts with an empty table
//! and the next snapshot hashes every file once. Rows are trusted without checking that
//! their blob still exists, so whoever deletes objects (gc) must call
//! [`Index::clear_stat_cache`].

use std::collections::BTreeMap;

use rusqlite::types::ValueRef;
use rusqlite::{TransactionBehavior, params};

use super::Index;
use super::rows::{self, ObjectRecord};
use crate::error::{Error, Result};
use crate::hash::{DIGEST_LEN, ObjectId};

/// What the cache compares to decide a file is unchanged (git's stat data, minus the
/// fields that do not change on edit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    /// Modification time, ns since the Unix epoch.
    pub mtime_ns: i64,
    /// Inode change time, ns since the Unix epoch. Catches edits that restore the mtime
    /// (`touch -d`, `cp -p`, `rsync -t`), because no one can set the ctime.
    pub ctime_ns: i64,
    /// Size in bytes.
    pub size: u64,
    /// Inode number. Catches a file replaced by rename with an identical mtime and size.
    pub inode: u64,
}

impl FileStat {
    /// The stat of an opened or `lstat`ed file.
    pub fn of(meta: &std::fs::Metadata) -> FileStat {
        use std::os::unix::fs::MetadataExt;
        FileStat {
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
            size: meta.size(),
            inode: meta.ino(),
        }
    }

    /// The later of mtime and ctime: the last moment the file is known to have changed.
    pub fn changed_ns(&self) -> i64 {
        self.mtime_ns.max(self.ctime_ns)
    }
}

/// Seconds + nanoseconds as one i64 of ns (saturating: ±292 years is plenty).
pub(crate) fn ns(secs: i64, nsec: i64) -> i64 {
    secs.saturating_mul(1_000_000_000).saturating_add(nsec)
}

/// One cached file, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatCacheRow {
    /// The stat of the file that was read.
    pub stat: FileStat,
    /// The capture key the blob was made under (`full`, `metadata_only`,
    /// `redacted:<redactor key>`); another key is a miss.
    pub level: String,
    /// The blob the file became; `None` when the file was found to be binary (skipped).
    pub blob: Option<ObjectId>,
    /// The file-system clock (ns) when the snapshot that wrote the row started. A row is
    /// only trusted for a file whose [`FileStat::changed_ns`] is strictly older
    /// (the racy-clean rule; see `snapshot`).
    pub cached_at_ns: i64,
}

/// What a cached file became.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachedBlob {
    Blob(ObjectId),
    /// The file was binary (skipped).
    Binary,
    /// The stored id is not 32 bytes: never trusted (the file is re-hashed).
    Garbled,
}

/// One cached file, as read by [`Index::scan_stat_cache`] (borrowed: no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatCacheEntry<'a> {
    pub path: &'a str,
    pub stat: FileStat,
    pub level: &'a str,
    pub blob: CachedBlob,
    pub cached_at_ns: i64,
}

impl Index {
    /// Visit every stat-cache row in bytewise path order (the order of tree entries),
    /// without allocating per row.
    pub fn scan_stat_cache(&self, mut visit: impl FnMut(StatCacheEntry<'_>)) -> Result<()> {
        let mut st = self
            .conn()
            .prepare_cached(
                "select path, mtime_ns, ctime_ns, size, inode, level, blob_id, cached_at_ns
                   from snapshot_stat_cache order by path",
            )
            .map_err(Error::index("prepare stat cache scan"))?;
        let mut rows = st.query([]).map_err(Error::index("scan stat cache"))?;
        while let Some(row) = rows.next().map_err(Error::index("scan stat cache"))? {
            // A row is only a hint: one SQLite cannot decode as written is passed on as
            // `Garbled` (re-hashed and replaced), never an error that stops a finalize.
            let Ok(path) = row.get_ref(0).and_then(|v| Ok(v.as_str()?)) else { continue };
            let decoded = (|| -> rusqlite::Result<StatCacheEntry<'_>> {
                let blob = match row.get_ref(6)? {
                    ValueRef::Null => CachedBlob::Binary,
                    ValueRef::Blob(raw) => <[u8; DIGEST_LEN]>::try_from(raw)
                        .map_or(CachedBlob::Garbled, |raw| CachedBlob::Blob(ObjectId::from_bytes(raw))),
                    _ => CachedBlob::Garbled,
                };
                Ok(StatCacheEntry {
                    path,
                    stat: FileStat {
                        mtime_ns: row.get(1)?,
                        ctime_ns: row.get(2)?,
                        // Bit-preserving casts, mirroring the writes.
                        size: row.get::<_, i64>(3)? as u64,
                        inode: row.get::<_, i64>(4)? as u64,
                    },
                    level: row.get_ref(5)?.as_str()?,
                    blob,
                    cached_at_ns: row.get(7)?,
                })
            })();
            visit(decoded.unwrap_or(StatCacheEntry {
                path,
                stat: FileStat { mtime_ns: 0, ctime_ns: 0, size: 0, inode: 0 },
                level: "",
                blob: CachedBlob::Garbled,
                cached_at_ns: 0,
            }));
        }
        Ok(())
    }

    /// Every stat-cache row, keyed by workspace path (diagnostics and tests; snapshots
    /// use [`Index::scan_stat_cache`]). Rows with a garbled hash are left out.
    pub fn load_stat_cache(&self) -> Result<BTreeMap<String, StatCacheRow>> {
        let mut out = BTreeMap::new();
        self.scan_stat_cache(|e| {
            let blob = match e.blob {
                CachedBlob::Blob(id) => Some(id),
                CachedBlob::Binary => None,
                CachedBlob::Garbled => return,
            };
            let row = StatCacheRow { stat: e.stat, level: e.level.to_owned(), blob, cached_at_ns: e.cached_at_ns };
            out.insert(e.path.to_owned(), row);
        })?;
        Ok(out)
    }

    /// Apply one snapshot's changes in a single transaction: upsert `upserts`, delete the
    /// rows of `deleted` paths, and record `objects` (the blobs and tree the snapshot
    /// wrote), so a row never points at an object the index does not know.
    pub fn write_stat_cache(
        &mut self,
        upserts: &[(String, StatCacheRow)],
        deleted: &[String],
        objects: &[ObjectRecord],
    ) -> Result<()> {
        if upserts.is_empty() && deleted.is_empty() && objects.is_empty() {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::index("begin stat cache transaction"))?;
        for object in objects {
            rows::insert_object(&tx, object)?;
        }
        {
            let mut upsert = tx
                .prepare_cached(
                    "insert or replace into snapshot_stat_cache(path, mtime_ns, ctime_ns, size, inode, level, blob_id, cached_at_ns)
                     values(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(Error::index("prepare stat cache upsert"))?;
            for (path, row) in upserts {
                upsert
                    .execute(params![
                        path,
                        row.stat.mtime_ns,
                        row.stat.ctime_ns,
                        // Bit-preserving casts: SQLite integers are i64; values round-trip.
                        row.stat.size as i64,
                        row.stat.inode as i64,
                        row.level,
                        row.blob.as_ref().map(|b| &b.as_bytes()[..]),
                        row.cached_at_ns,
                    ])
                    .map_err(Error::index("upsert stat cache row"))?;
            }
            let mut delete = tx
                .prepare_cached("delete from snapshot_stat_cache where path = ?1")
                .map_err(Error::index("prepare stat cache delete"))?;
            for path in deleted {
                delete.execute([path]).map_err(Error::index("delete stat cache row"))?;
            }
        }
        tx.commit().map_err(Error::index("commit stat cache"))
    }

    /// Forget every cached stat (the next snapshot hashes every file once).
    ///
    /// **Whoever deletes objects must call this** (in practice `gc` after pruning, under
    /// its exclusive `gc.lock`): rows are trusted without checking that their blob still
    /// exists, because checking 10,000 blobs per finalize would cost more than the whole
    /// cached snapshot. A rebuilt index starts with an empty table anyway.
    pub fn clear_stat_cache(&self) -> Result<()> {
        self.conn().execute("delete from snapshot_stat_cache", []).map_err(Error::index("clear stat cache"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::ObjectKind;
    use crate::store::Store;

    fn row(blob: Option<ObjectId>) -> StatCacheRow {
        StatCacheRow {
            stat: FileStat { mtime_ns: 1, ctime_ns: 2, size: u64::MAX, inode: u64::MAX - 1 },
            level: "full".into(),
            blob,
            cached_at_ns: 3,
        }
    }

    #[test]
    fn rows_round_trip_in_path_order_and_can_be_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::init(dir.path()).unwrap();
        let mut index = Index::open(&store).unwrap();
        assert!(index.load_stat_cache().unwrap().is_empty());

        let blob = ObjectId::of(b"a");
        let objects = [ObjectRecord { id: blob, kind: ObjectKind::Blob, size: 1 }];
        let rows =
            vec![("b/c".to_owned(), row(Some(blob))), ("B".to_owned(), row(Some(blob))), ("b.c".to_owned(), row(None))];
        index.write_stat_cache(&rows, &[], &objects).unwrap();
        let mut order = Vec::new();
        index.scan_stat_cache(|e| order.push(e.path.to_owned())).unwrap();
        assert_eq!(order, ["B", "b.c", "b/c"], "bytewise, like tree entries");
        let loaded = index.load_stat_cache().unwrap();
        assert_eq!(loaded["b/c"], row(Some(blob)));
        assert_eq!(loaded["b.c"], row(None));
        let kind: String =
            index.conn().query_row("select kind from objects where hash=?1", [blob.to_hex()], |r| r.get(0)).unwrap();
        assert_eq!(kind, "blob");

        index.conn().execute("update snapshot_stat_cache set blob_id=x'00' where path='B'", []).unwrap();
        index.conn().execute("update snapshot_stat_cache set mtime_ns='soon' where path='b.c'", []).unwrap();
        let mut garbled = Vec::new();
        index.scan_stat_cache(|e| garbled.push((e.path.to_owned(), e.blob))).unwrap();
        assert_eq!(garbled[0], ("B".to_owned(), CachedBlob::Garbled));
        assert_eq!(garbled[1], ("b.c".to_owned(), CachedBlob::Garbled));

        index.write_stat_cache(&[], &["b/c".to_owned()], &[]).unwrap();
        assert!(index.load_stat_cache().unwrap().is_empty(), "garbled rows are left out");
        let mut left = Vec::new();
        index.scan_stat_cache(|e| left.push(e.path.to_owned())).unwrap();
        assert_eq!(left, ["B", "b.c"]);

        index.clear_stat_cache().unwrap();
        assert!(index.load_stat_cache().unwrap().is_empty());
    }
}
