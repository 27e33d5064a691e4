"""The API contract as Pydantic models, one module per resource (the full-stack template's schema families).

``<Entity>Public`` is what a route answers, ``<Entity>Create`` what it takes in a body, ``<Entity>Query``
what it takes in the query string. The routers use them as ``response_model`` and request models, so
``/openapi.json`` describes every answer; the keys and values are those of the domain views
(``DocumentView.as_dict()``, ``ItemView.as_dict()``, ``SearchService.search``), unchanged.
"""

from __future__ import annotations

from tfe.app.web.schemas.common import (
    ClassificationPublic,
    ConceptRef,
    Visibility,
)
from tfe.app.web.schemas.curation import (
    BulkDecision,
    BulkFailurePublic,
    BulkResultPublic,
    ConceptScorePublic,
    DecisionBody,
    DecisionPublic,
    QueueItemPublic,
    QueuePublic,
)
from tfe.app.web.schemas.document_edit import (
    ConceptChanges,
    DocumentUpdate,
    DocumentUpdatePublic,
)
from tfe.app.web.schemas.documents import (
    DocumentCreate,
    DocumentPublic,
    DocumentTypePublic,
    DocumentUploadPublic,
    DocumentVersionPublic,
)
from tfe.app.web.schemas.errors import (
    ErrorDetail,
    ErrorPublic,
)
from tfe.app.web.schemas.health import (
    HealthPublic,
)
from tfe.app.web.schemas.items import (
    ItemPublic,
    ItemSourcePublic,
)
from tfe.app.web.schemas.search import (
    FacetCountPublic,
    SearchFacetsPublic,
    SearchHitPublic,
    SearchQuery,
    SearchResultsPublic,
)
from tfe.app.web.schemas.sources import (
    FeedLinkPublic,
    ImportReportPublic,
    PollOutcomePublic,
    SourceCreate,
    SourceListPublic,
    SourceOrgPublic,
    SourcePreviewPublic,
    SourcePreviewRequest,
    SourcePublic,
    SourceRemovedPublic,
    SourceUpdate,
)
from tfe.app.web.schemas.stories import (
    StoriesPublic,
    StoryItemPublic,
    StoryPublic,
    StorySourcePublic,
)
from tfe.app.web.schemas.subscriptions import (
    AtomTokenPublic,
    HistoryEntryPublic,
    HistoryPublic,
    SubscriptionCreate,
    SubscriptionCreatedPublic,
    SubscriptionExportPublic,
    SubscriptionListPublic,
    SubscriptionPreviewPublic,
    SubscriptionPublic,
    SubscriptionsDeletedPublic,
    SubscriptionUpdate,
)
from tfe.app.web.schemas.taxonomy import (
    ConceptPublic,
    ConceptsPublic,
    SchemePublic,
    SchemesPublic,
)

__all__ = [
    "AtomTokenPublic",
    "BulkDecision",
    "BulkFailurePublic",
    "BulkResultPublic",
    "ClassificationPublic",
    "ConceptChanges",
    "ConceptPublic",
    "ConceptRef",
    "ConceptScorePublic",
    "ConceptsPublic",
    "DecisionBody",
    "DecisionPublic",
    "DocumentCreate",
    "DocumentPublic",
    "DocumentTypePublic",
    "DocumentUpdate",
    "DocumentUpdatePublic",
    "DocumentUploadPublic",
    "DocumentVersionPublic",
    "ErrorDetail",
    "ErrorPublic",
    "FacetCountPublic",
    "FeedLinkPublic",
    "HealthPublic",
    "HistoryEntryPublic",
    "HistoryPublic",
    "ImportReportPublic",
    "ItemPublic",
    "ItemSourcePublic",
    "PollOutcomePublic",
    "QueueItemPublic",
    "QueuePublic",
    "SchemePublic",
    "SchemesPublic",
    "SearchFacetsPublic",
    "SearchHitPublic",
    "SearchQuery",
    "SearchResultsPublic",
    "SourceCreate",
    "SourceListPublic",
    "SourceOrgPublic",
    "SourcePreviewPublic",
    "SourcePreviewRequest",
    "SourcePublic",
    "SourceRemovedPublic",
    "SourceUpdate",
    "StoriesPublic",
    "StoryItemPublic",
    "StoryPublic",
    "StorySourcePublic",
    "SubscriptionCreate",
    "SubscriptionCreatedPublic",
    "SubscriptionExportPublic",
    "SubscriptionListPublic",
    "SubscriptionPreviewPublic",
    "SubscriptionPublic",
    "SubscriptionUpdate",
    "SubscriptionsDeletedPublic",
    "Visibility",
]
