//! An in-memory [`Source`]: for tests, demos and snapshot tests. Everything is answered
//! immediately from maps filled by the builder methods.

use std::collections::HashMap;

use crate::source::{
    DetailSink, ImageView, Listing, RegistryEntry, Source, SourceError, SourceErrorKind,
    SourceFuture, TagDetail, TagDetailUpdate,
};

type Key2 = (String, String);

#[derive(Debug, Default, Clone)]
pub struct MemorySource {
    registries: Vec<RegistryEntry>,
    repositories: HashMap<String, Result<Vec<String>, SourceError>>,
    tags: HashMap<Key2, Result<Vec<String>, SourceError>>,
    details: HashMap<Key2, TagDetail>,
    images: HashMap<Key2, ImageView>,
}

impl MemorySource {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn registry(mut self, name: &str, host: &str, current: bool) -> Self {
        self.registries.push(RegistryEntry {
            name: name.into(),
            host: host.into(),
            current,
        });
        self
    }

    pub fn repositories<S: Into<String>>(
        mut self,
        registry: &str,
        repos: impl IntoIterator<Item = S>,
    ) -> Self {
        self.repositories.insert(
            registry.into(),
            Ok(repos.into_iter().map(Into::into).collect()),
        );
        self
    }

    pub fn repositories_error(mut self, registry: &str, error: SourceError) -> Self {
        self.repositories.insert(registry.into(), Err(error));
        self
    }

    pub fn tags<S: Into<String>>(
        mut self,
        registry: &str,
        repo: &str,
        tags: impl IntoIterator<Item = S>,
    ) -> Self {
        self.tags.insert(
            (registry.into(), repo.into()),
            Ok(tags.into_iter().map(Into::into).collect()),
        );
        self
    }

    pub fn tags_error(mut self, registry: &str, repo: &str, error: SourceError) -> Self {
        self.tags.insert((registry.into(), repo.into()), Err(error));
        self
    }

    /// Details for one tag; keyed by `detail.tag` within `registry`/`repo`.
    pub fn detail(mut self, registry: &str, repo: &str, detail: TagDetail) -> Self {
        self.details
            .insert((registry.into(), format!("{repo}:{}", detail.tag)), detail);
        self
    }

    /// An image for `reference` (`repo:tag` or `repo@digest`).
    pub fn image(mut self, registry: &str, reference: &str, image: ImageView) -> Self {
        self.images
            .insert((registry.into(), reference.into()), image);
        self
    }
}

fn not_found(what: String) -> SourceError {
    SourceError::new(SourceErrorKind::NotFound, what)
}

impl Source for MemorySource {
    fn registries(&self) -> SourceFuture<'_, Vec<RegistryEntry>> {
        let list = self.registries.clone();
        Box::pin(async move { Ok(list) })
    }

    fn repositories<'a>(&'a self, registry: &'a str, _fresh: bool) -> SourceFuture<'a, Listing> {
        Box::pin(async move {
            self.repositories
                .get(registry)
                .cloned()
                .unwrap_or_else(|| Err(not_found(format!("Registry '{registry}' not found"))))
                .map(Listing::current)
        })
    }

    fn tags<'a>(
        &'a self,
        registry: &'a str,
        repository: &'a str,
        _fresh: bool,
    ) -> SourceFuture<'a, Listing> {
        Box::pin(async move {
            self.tags
                .get(&(registry.to_string(), repository.to_string()))
                .cloned()
                .unwrap_or_else(|| {
                    Err(not_found(format!(
                        "Repository '{repository}' not found in registry {registry}"
                    )))
                })
                .map(Listing::current)
        })
    }

    fn tag_details<'a>(
        &'a self,
        registry: &'a str,
        repository: &'a str,
        tags: &'a [String],
        _fresh: bool,
        sink: DetailSink,
    ) -> SourceFuture<'a, ()> {
        Box::pin(async move {
            for tag in tags {
                let key = (registry.to_string(), format!("{repository}:{tag}"));
                match self.details.get(&key) {
                    Some(detail) => sink.send(TagDetailUpdate::Ready(detail.clone())),
                    None => sink.send(TagDetailUpdate::Failed {
                        tag: tag.clone(),
                        error: not_found(format!("Tag '{tag}' not found")),
                    }),
                }
            }
            Ok(())
        })
    }

    fn image<'a>(
        &'a self,
        registry: &'a str,
        reference: &'a str,
        _platform: Option<&'a str>,
    ) -> SourceFuture<'a, ImageView> {
        Box::pin(async move {
            self.images
                .get(&(registry.to_string(), reference.to_string()))
                .cloned()
                .ok_or_else(|| not_found(format!("Image '{reference}' not found")))
        })
    }
}
